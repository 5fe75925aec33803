/**
 * STATE_DIR: where z3 keeps what must survive a reboot between runs — the resume journals of
 * uploads in progress (src/resume/journal.ts). Resolving it touches no file system; the
 * directory is created (0700) when a journal is first written.
 */
import { posix } from 'node:path';
import { ConfigError } from '../errors.js';

/** STATE_DIR as set (`value`, from `where`), else the default for this process. */
export function parseStateDir(
  raw: { value: string; where: string } | undefined,
  env: Record<string, string | undefined>,
  uid: number | undefined,
): string {
  const text = raw?.value.trim();
  if (raw !== undefined && text !== undefined && text !== '') {
    if (!posix.isAbsolute(text)) {
      throw new ConfigError(`${raw.where} STATE_DIR: expected an absolute directory path`);
    }
    return text;
  }
  return defaultStateDir({ env, uid });
}

/**
 * The state directory when STATE_DIR is not set: `/var/lib/z3` for root (systemd's
 * StateDirectory), else `$XDG_STATE_HOME/z3` (absolute only, as the XDG spec requires), else
 * `$HOME/.local/state/z3`, else `/tmp/z3-state-<uid>` (no home: survives no reboot, but a
 * killed run can still be resumed until then).
 */
export function defaultStateDir(input: {
  env: Record<string, string | undefined>;
  uid: number | undefined;
}): string {
  if (input.uid === 0) return '/var/lib/z3';
  const xdg = input.env['XDG_STATE_HOME']?.trim();
  if (xdg !== undefined && posix.isAbsolute(xdg)) return posix.join(xdg, 'z3');
  const home = input.env['HOME']?.trim();
  if (home !== undefined && posix.isAbsolute(home))
    return posix.join(home, '.local', 'state', 'z3');
  return `/tmp/z3-state-${input.uid ?? 'user'}`;
}
