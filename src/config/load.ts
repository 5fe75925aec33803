import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { parseIni, type IniFile } from './ini.js';

/** Where the config file is looked for when neither `--config` nor `Z3_CONFIG` names one. */
export const DEFAULT_CONFIG_PATH = '/etc/z3_backup/z3.conf';

/** Everything `resolveSettings` needs from the outside world, read once at startup. */
export interface ConfigSources {
  /** The config file path that was chosen (even when the default file does not exist). */
  filePath: string;
  /** The parsed file; undefined when the default file does not exist. */
  file: IniFile | undefined;
  /** A snapshot of the environment. */
  env: Record<string, string | undefined>;
}

export interface LoadOptions {
  /** The `--config FILE` flag, if given. */
  configFlag?: string | undefined;
  /** The environment to read; defaults to `process.env` (tests pass their own). */
  env?: Record<string, string | undefined> | undefined;
  /** The file read when neither flag nor Z3_CONFIG names one; DEFAULT_CONFIG_PATH (tests). */
  defaultPath?: string | undefined;
}

/**
 * Read the environment and the config file: the only module that touches either. The file is
 * `--config FILE`, else `$Z3_CONFIG` (when non-empty), else `/etc/z3_backup/z3.conf`.
 *
 * Why a missing default file is fine but a missing named one is not: the original runs with
 * environment variables only, while a file the user named and we could not read is a typo that
 * would otherwise fall back to defaults silently.
 *
 * @throws ConfigError `<path>: cannot read config file: <reason>` when a named file cannot be
 *   read, or the default file exists but cannot be read; ConfigError from `parseIni` on bad syntax.
 */
export function loadConfigSources(options: LoadOptions = {}): ConfigSources {
  const env = { ...(options.env ?? process.env) };
  const fromEnv = env['Z3_CONFIG'];
  const named = options.configFlag ?? (fromEnv === '' ? undefined : fromEnv);
  const filePath = named ?? options.defaultPath ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (named === undefined && code === 'ENOENT') return { filePath, file: undefined, env };
    throw new ConfigError(`${filePath}: cannot read config file: ${describeReadError(err)}`, {
      cause: err,
    });
  }
  return { filePath, file: parseIni(text, filePath), env };
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
};

function describeReadError(err: unknown): string {
  const known = READ_ERRORS[(err as NodeJS.ErrnoException).code ?? ''];
  return known ?? (err instanceof Error ? err.message : String(err));
}
