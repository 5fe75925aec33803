import { normalizePrefix } from './remote.js';

/**
 * Where z3 keeps the index of a dataset's backups (src/storage/index/):
 * `<prefix>/.z3/index/<dataset>.json`. Never a key Python z3 would take for a snapshot: it reads
 * as one every key starting with `<prefix>/<fs>@<SNAPSHOT_PREFIX>` (spec 4.2), and this key has
 * no `@` (a dataset name cannot contain one) and its part after the prefix starts with `.`,
 * which no pool name does. Holds for every prefix, the original's `/` included. `prefix` may be
 * raw or normalised.
 */
export function indexKey(prefix: string, dataset: string): string {
  return `${normalizePrefix(prefix)}.z3/index/${dataset}.json`;
}
