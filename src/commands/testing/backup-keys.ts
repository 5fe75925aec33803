import type { MemBackend } from '../../storage/mem/backend.js';

/**
 * The keys of the backups in `mem`, in storage order: every object but z3's own under
 * `<prefix>/.z3/` (the dataset index, src/commands/dataset-index.ts).
 */
export function backupKeys(mem: MemBackend): string[] {
  return [...mem.objects.keys()].filter((key) => !key.includes('/.z3/') && !key.startsWith('.z3/'));
}
