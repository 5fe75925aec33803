// `--all`, `--recursive` and `--jobs` reach the runner from each subcommand that has them.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT, UsageError } from '../errors.js';
import { runZ3 } from './z3-program.js';

async function failure(argv: string[]): Promise<unknown> {
  return runZ3({ argv, signal: new AbortController().signal }).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('--all / --recursive / --jobs on the command line', () => {
  beforeEach(() => {
    vi.stubEnv('Z3_CONFIG', '/dev/null');
    vi.stubEnv('BUCKET', 'b');
    vi.stubEnv('FILESYSTEM', undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each(['backup', 'status', 'prune', 'verify'])(
    'z3 %s --all --dataset: exit 2',
    async (command) => {
      const err = await failure([command, '--all', '--dataset', 'tank/a']);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(EXIT.USAGE);
      expect((err as UsageError).message).toMatch(/^--all runs every configured dataset/);
    },
  );

  it.each(['backup', 'status', 'prune', 'verify'])(
    'z3 %s --jobs 2 alone: exit 2',
    async (command) => {
      const err = await failure([command, '--jobs', '2', '--dataset', 'tank/a']);
      expect((err as UsageError).message).toBe('--jobs needs --all or --recursive');
    },
  );

  it('restore has no --all', async () => {
    const err = await failure(['restore', 'snap', '--all']);
    expect((err as UsageError).exitCode).toBe(EXIT.USAGE);
    expect((err as UsageError).message).toMatch(/unknown option '--all'/);
  });
});
