import { loadConfigSources } from '../config/load.js';
import { resolveSettings, type SettingFlags } from '../config/settings.js';
import type { Settings } from '../config/types.js';
import { ConfigError } from '../errors.js';

/** Options every `z3` subcommand accepts (raw strings from the command line, no defaults). */
export interface GlobalFlags {
  config: string | undefined;
  s3Prefix: string | undefined;
  filesystem: string | undefined;
  snapshotPrefix: string | undefined;
  backupDir?: string | undefined;
}

/** Resolve the settings of this run: flag > environment > [fs:<dataset>] > [main] > default. */
export function loadSettings(
  flags: GlobalFlags,
  env: Record<string, string | undefined>,
  extra: SettingFlags = {},
): Settings {
  const sources = loadConfigSources({ configFlag: flags.config, env });
  return resolveSettings(sources, {
    s3Prefix: flags.s3Prefix,
    filesystem: flags.filesystem,
    snapshotPrefix: flags.snapshotPrefix,
    backupDir: flags.backupDir,
    ...extra,
  });
}

/** The dataset of this run, or a config error that says where to set it. */
export function requireFilesystem(settings: Settings): string {
  if (settings.filesystem === undefined || settings.filesystem === '') {
    throw new ConfigError('FILESYSTEM is not set', {
      hint: 'pass --dataset <pool/fs>, or set FILESYSTEM in [main] of the config file or the environment',
    });
  }
  return settings.filesystem;
}
