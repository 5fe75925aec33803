/**
 * The programs a run needs, checked before anything starts. One rule for every command: a
 * missing `zfs`, compressor, `gpg` or `ssh` is a UsageError (exit 2) naming the Debian package
 * to install, raised before the first listing, request or spawn. Why not leave it to the spawn:
 * a program found missing halfway (after `zfs send` started, or after an S3 listing) is reported
 * as a failed command (exit 4) and may leave work half done; this is a setup problem.
 */
import { UsageError } from '../errors.js';
import type { StageSpec } from './types.js';
import { findProgram, installHint, packageOf } from './which.js';

export interface ProgramCheckOptions {
  /** The PATH to search; default the PATH children inherit. A stage's own `env.PATH` wins. */
  path?: string | undefined;
}

/**
 * Check that the program of every stage (`argv[0]`) is installed. Resolves when all are; else
 * rejects with one UsageError naming every missing program and who needs it, e.g.
 * `compressor pigz1 needs 'pigz', which is not installed` with the hint
 * `install it, e.g. apt-get install pigz`. Looks at PATH only: safe to call any number of times.
 */
export function checkProgramsAvailable(
  stages: readonly StageSpec[],
  options: ProgramCheckOptions = {},
): Promise<void> {
  const missing = new Map<string, string | undefined>();
  for (const stage of stages) {
    const program = stage.argv[0] ?? '';
    const path = stage.env?.['PATH'] ?? options.path;
    if (!missing.has(program) && findProgram(program, { path }) === undefined) {
      missing.set(program, stage.label);
    }
  }
  if (missing.size === 0) return Promise.resolve();
  return Promise.reject(notInstalledError([...missing]));
}

/**
 * `checkProgramsAvailable` for plain argvs, e.g. `requirePrograms([['zfs'], ['ssh']])`: what a
 * command calls first, after its settings are resolved and before its first listing or spawn.
 */
export function requirePrograms(
  argvs: readonly (readonly string[])[],
  options: ProgramCheckOptions = {},
): Promise<void> {
  return checkProgramsAvailable(
    argvs.map((argv) => ({ argv: [...argv] })),
    options,
  );
}

/** `missing`: [program, label of the stage that needs it] pairs, at least one. */
function notInstalledError(missing: [string, string | undefined][]): UsageError {
  const [first, ...rest] = missing;
  if (first !== undefined && rest.length === 0) {
    const [program, label] = first;
    const what =
      label === undefined
        ? `'${program}' is not installed`
        : `${label} needs '${program}', which is not installed`;
    return new UsageError(what, { hint: installHint(program) });
  }
  const names = missing.map(([p, label]) => (label === undefined ? `'${p}'` : `'${p}' (${label})`));
  const packages: string[] = [];
  const unknown: string[] = [];
  for (const [program] of missing) {
    const pkg = packageOf(program);
    if (pkg === undefined) unknown.push(`'${program}'`);
    else packages.push(pkg);
  }
  const steps = [
    ...(packages.length > 0 ? [`apt-get install ${packages.join(' ')}`] : []),
    ...(unknown.length > 0 ? [`put ${unknown.join(', ')} on PATH`] : []),
  ];
  return new UsageError(`not installed: ${names.join(', ')}`, { hint: steps.join('; ') });
}
