/**
 * Strictness of the config file: every key and section must be one z3 reads. Why an error and
 * not a warning: `COMPRESOR = gpg` ignored means backups go out unencrypted, with exit 0, from
 * cron where nobody reads a warning. The environment is not checked: it holds everything.
 */
import { ConfigError } from '../errors.js';
import type { IniFile, IniSection } from './ini.js';

/** A key name as z3 spells keys: only such a name is ever echoed in a message. */
const KEY_NAME = /^[A-Z][A-Z0-9_]*$/;

/** How far (in edits) a typo may be from a known key to be suggested. */
const MAX_SUGGESTION_DISTANCE = 2;

/** The sections z3 reads: `[DEFAULT]` feeds every section, as in Python's configparser. */
const FIXED_SECTIONS = ['main', 'DEFAULT'];

/**
 * Check every section and key of `file` against `knownKeys` (upper-case, as `parseIni` stores
 * keys). Sections are `[main]`, `[DEFAULT]` and `[fs:<dataset>]`.
 *
 * A key that is not a key name (`S3_SECRET wJalr…=x` lost its `=`, so the "key" holds a
 * secret) is reported by line only: never echoed.
 *
 * @throws ConfigError `<file> [<section>] <KEY>: unknown key; did you mean <KNOWN>?` for the
 *   first unknown key, or `<file>: unknown section [<name>]` for the first unknown section.
 */
export function checkKnownKeys(file: IniFile, knownKeys: readonly string[]): void {
  for (const section of file.sections) {
    checkSectionName(file.fileName, section);
    for (const [key, entry] of section.entries) {
      if (knownKeys.includes(key)) continue;
      const where = `${file.fileName} [${section.name}]`;
      if (!KEY_NAME.test(key)) {
        throw new ConfigError(
          `${where} line ${entry.line}: not a key name (the line is not shown: it may hold a secret)`,
          { hint: 'write "KEY = value", one key per line' },
        );
      }
      const closest = closestName(key, knownKeys);
      throw new ConfigError(
        `${where} ${key}: unknown key${closest === undefined ? '' : `; did you mean ${closest}?`}`,
        { hint: `line ${entry.line}; z3.conf.sample lists every key` },
      );
    }
  }
}

function checkSectionName(fileName: string, section: IniSection): void {
  if (FIXED_SECTIONS.includes(section.name) || /^fs:./.test(section.name)) return;
  const closest = closestName(section.name, FIXED_SECTIONS);
  throw new ConfigError(
    `${fileName}: unknown section [${section.name}]${closest === undefined ? '' : `; did you mean [${closest}]?`}`,
    { hint: `line ${section.line}; the sections are [main] and [fs:<dataset>]` },
  );
}

/**
 * The known name nearest to `name`: equal ignoring case, else within MAX_SUGGESTION_DISTANCE
 * edits (the first of equally near ones); undefined when none is that near.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const upper = name.toUpperCase();
  const sameCase = known.find((k) => k.toUpperCase() === upper);
  if (sameCase !== undefined) return sameCase;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(upper, candidate.toUpperCase());
    if (distance <= MAX_SUGGESTION_DISTANCE && (best === undefined || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * adjacent characters each cost 1. Why swaps: `COMRPESSOR` is one slip of the fingers, not two.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
