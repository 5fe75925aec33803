/**
 * Find a program the way `execvp` (and so `spawn`) will: a name with a `/` is taken as a path,
 * any other name is looked up in each directory of PATH in order. Used to report a missing
 * program before anything is spawned, instead of after `zfs send` already started.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Debian/Ubuntu package that provides each program z3 may spawn, for the `hint:` of a
 * "not installed" error. Programs not listed get a hint without a package name.
 */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  zfs: 'zfsutils-linux',
  pigz: 'pigz',
  gpg: 'gnupg',
  zstd: 'zstd',
  lz4: 'lz4',
  xz: 'xz-utils',
  pv: 'pv',
  mbuffer: 'mbuffer',
  ssh: 'openssh-client',
  flock: 'util-linux',
};

export interface FindProgramOptions {
  /** The PATH to search; defaults to the PATH children inherit (`process.env.PATH`). */
  path?: string | undefined;
}

/**
 * The absolute path `spawn` would execute for `program`, or undefined when there is no
 * executable regular file of that name. Synchronous (a few `stat` calls) so the runner can
 * check every stage before spawning the first one. Never throws.
 */
export function findProgram(program: string, options: FindProgramOptions = {}): string | undefined {
  if (program === '') return undefined;
  if (program.includes('/')) return isExecutableFile(program) ? program : undefined;
  // An empty PATH entry means the current directory, as in execvp.
  const path = options.path ?? process.env['PATH'] ?? '';
  for (const dir of path.split(delimiter)) {
    const candidate = join(dir === '' ? '.' : dir, program);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** `apt-get install <package>` for known programs, else a generic sentence. */
export function installHint(program: string): string {
  const pkg = PACKAGE_OF[program];
  return pkg === undefined
    ? `install '${program}' or put it on PATH`
    : `install it, e.g. apt-get install ${pkg}`;
}

/** The package that provides `program`, when known. */
export function packageOf(program: string): string | undefined {
  return PACKAGE_OF[program];
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
