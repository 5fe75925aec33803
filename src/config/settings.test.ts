import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redact } from '../cli/secrets.js';
import { ConfigError } from '../errors.js';
import { parseIni } from './ini.js';
import type { ConfigSources } from './load.js';
import { normalizePrefix } from '../plan/remote.js';
import { tmpdir } from 'node:os';
import { constants } from 'node:buffer';
import { MAX_PART_SIZE } from '../transfer/part-size.js';
import { chunkSizeRule, defaultLockDir, resolveSettings, type SettingFlags } from './settings.js';
import type { Settings } from './types.js';
import { defaultStateDir } from './state-dir.js';

const FILE = '/etc/z3_backup/z3.conf';
const DATASET = 'tank/v1.2:x';
type Env = Record<string, string | undefined>;
/** The default LOCK_DIR of this process with an empty environment (it depends on the uid). */
const LOCK_DIR_HERE = defaultLockDir({ env: {}, uid: process.getuid?.(), tmpdir: tmpdir() });
const STATE_DIR_HERE = defaultStateDir({ env: {}, uid: process.getuid?.() });

function sources(text: string | undefined, env: Env = {}): ConfigSources {
  return { filePath: FILE, file: text === undefined ? undefined : parseIni(text, FILE), env };
}

function ini(sections: Record<string, Record<string, string>>): string {
  return Object.entries(sections)
    .map(
      ([name, keys]) =>
        `[${name}]\n${Object.entries(keys)
          .map(([k, v]) => `${k} = ${v}\n`)
          .join('')}`,
    )
    .join('\n');
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

/** One key: the value each layer gives and what the Settings field must then be. */
interface PrecedenceRow {
  key: string;
  field: keyof Settings;
  flag?: keyof SettingFlags;
  /** [flag, env, [fs:], [main]] raw values; index 0 is ignored without a flag. */
  values: [string, string, string, string];
  expected: [unknown, unknown, unknown, unknown];
  fallback: unknown;
}

const M = 1024 * 1024;
const ROWS: PrecedenceRow[] = [
  {
    key: 'BUCKET',
    field: 'bucket',
    values: ['', 'b-env', 'b-fs', 'b-main'],
    expected: [0, 'b-env', 'b-fs', 'b-main'],
    fallback: undefined,
  },
  {
    key: 'S3_KEY_ID',
    field: 's3KeyId',
    values: ['', 'id-env', 'id-fs', 'id-main'],
    expected: [0, 'id-env', 'id-fs', 'id-main'],
    fallback: undefined,
  },
  {
    key: 'S3_SECRET',
    field: 's3Secret',
    values: ['', 'sec-env', 'sec-fs', 'sec-main'],
    expected: [0, 'sec-env', 'sec-fs', 'sec-main'],
    fallback: undefined,
  },
  {
    key: 'HOST',
    field: 'endpoint',
    values: ['', 'env.example', 'http://fs.example:9000', 'main.example:9000'],
    expected: [0, 'https://env.example', 'http://fs.example:9000', 'https://main.example:9000'],
    fallback: undefined,
  },
  {
    key: 'S3_REGION',
    field: 's3Region',
    values: ['', 'r-env', 'r-fs', 'r-main'],
    expected: [0, 'r-env', 'r-fs', 'r-main'],
    fallback: undefined,
  },
  {
    key: 'S3_FORCE_PATH_STYLE',
    field: 's3ForcePathStyle',
    values: ['', 'true', 'off', 'on'],
    expected: [0, true, false, true],
    fallback: false,
  },
  {
    key: 'S3_PREFIX',
    field: 's3Prefix',
    flag: 's3Prefix',
    values: ['p-flag', 'p-env/', 'p-fs//', 'p-main'],
    expected: ['p-flag/', 'p-env/', 'p-fs/', 'p-main/'],
    fallback: 'z3-backup/',
  },
  {
    key: 'S3_PREFIX',
    field: 's3PrefixRaw',
    flag: 's3Prefix',
    values: ['p-flag', 'p-env/', 'p-fs//', 'p-main'],
    expected: ['p-flag', 'p-env/', 'p-fs//', 'p-main'],
    fallback: 'z3-backup/',
  },
  {
    key: 'SNAPSHOT_PREFIX',
    field: 'snapshotPrefix',
    flag: 'snapshotPrefix',
    values: ['s-flag', 's-env', 's-fs', 's-main'],
    expected: ['s-flag', 's-env', 's-fs', 's-main'],
    fallback: 'zfs-auto-snap:daily',
  },
  {
    key: 'COMPRESSOR',
    field: 'compressor',
    flag: 'compressor',
    values: ['none', 'gpg', 'pigz4', 'zstd'],
    expected: ['none', 'gpg', 'pigz4', 'zstd'],
    fallback: 'pigz1',
  },
  {
    key: 'GPG_RECIPIENT',
    field: 'gpgRecipient',
    flag: 'gpgRecipient',
    values: ['g-flag', 'g-env', 'g-fs', 'g-main'],
    expected: ['g-flag', 'g-env', 'g-fs', 'g-main'],
    fallback: 'z3_backup',
  },
  {
    key: 'CONCURRENCY',
    field: 'concurrency',
    flag: 'concurrency',
    values: ['1', '2', '3', '1000'],
    expected: [1, 2, 3, 1000],
    fallback: 32,
  },
  {
    key: 'CHUNK_SIZE',
    field: 'chunkSize',
    flag: 'chunkSize',
    values: ['5M', '6m', '7340032', '4G'],
    expected: [5 * M, 6 * M, 7 * M, 4096 * M],
    fallback: 256 * M,
  },
  {
    key: 'MAX_RETRIES',
    field: 'maxRetries',
    values: ['', '2', '3', '100'],
    expected: [0, 2, 3, 100],
    fallback: 3,
  },
  {
    key: 'S3_STORAGE_CLASS',
    field: 'storageClass',
    flag: 'storageClass',
    values: ['STANDARD', 'GLACIER', 'ONEZONE_IA', 'GLACIER_IR'],
    expected: ['STANDARD', 'GLACIER', 'ONEZONE_IA', 'GLACIER_IR'],
    fallback: 'STANDARD_IA',
  },
  {
    key: 'SSH_OPTIONS',
    field: 'sshOptions',
    flag: 'sshOptions',
    values: ['-p 1', '-p 2', ' -o  A=3 ', '-4'],
    expected: [['-p', '1'], ['-p', '2'], ['-o', 'A=3'], ['-4']],
    fallback: [],
  },
  {
    key: 'BACKUP_DIR',
    field: 'backupDir',
    flag: 'backupDir',
    values: ['/d-flag', '/d-env', '/d-fs', '/mnt/d main'],
    expected: ['/d-flag', '/d-env', '/d-fs', '/mnt/d main'],
    fallback: undefined,
  },
  {
    key: 'CACHE_DIR',
    field: 'metadataCacheDir',
    values: ['', '/c-env', '/c-fs', 'OFF'],
    expected: [0, '/c-env', '/c-fs', undefined],
    fallback: undefined,
  },
  {
    key: 'LOCK_DIR',
    field: 'lockDir',
    values: ['', '/l-env', '/l-fs', '/run/l main'],
    expected: [0, '/l-env', '/l-fs', '/run/l main'],
    fallback: LOCK_DIR_HERE,
  },
];

describe('resolveSettings precedence: flag > environment > [fs:] > [main] > default', () => {
  it.each(ROWS.map((row) => [`${row.key} → ${row.field}`, row] as const))('%s', (_name, row) => {
    const [flagValue, envValue, fsValue, mainValue] = row.values;
    const resolveWith = (layers: {
      flag: boolean;
      env: boolean;
      fs: boolean;
      main: boolean;
    }): unknown => {
      const flags: SettingFlags =
        layers.flag && row.flag !== undefined ? { [row.flag]: flagValue } : {};
      const env: Env = layers.env ? { [row.key]: envValue } : {};
      const text = ini({
        main: { FILESYSTEM: DATASET, ...(layers.main ? { [row.key]: mainValue } : {}) },
        [`fs:${DATASET}`]: layers.fs ? { [row.key]: fsValue } : {},
        'fs:tank/other': { [row.key]: fsValue },
      });
      return resolveSettings(sources(text, env), flags)[row.field];
    };
    const all = { flag: true, env: true, fs: true, main: true };
    if (row.flag !== undefined) expect(resolveWith(all)).toEqual(row.expected[0]);
    expect(resolveWith({ ...all, flag: false })).toEqual(row.expected[1]);
    expect(resolveWith({ ...all, flag: false, env: false })).toEqual(row.expected[2]);
    expect(resolveWith({ flag: false, env: false, fs: false, main: true })).toEqual(
      row.expected[3],
    );
    expect(resolveWith({ flag: false, env: false, fs: false, main: false })).toEqual(row.fallback);
  });

  it('FILESYSTEM: flag > environment > [main] > none, and it picks the [fs:] section', () => {
    const text = ini({
      main: { FILESYSTEM: 'tank/main', COMPRESSOR: 'none' },
      'fs:tank/main': { COMPRESSOR: 'pigz4' },
      'fs:tank/env': { COMPRESSOR: 'zstd' },
      'fs:tank/flag': { COMPRESSOR: 'gpg', FILESYSTEM: 'ignored' },
    });
    const env = { FILESYSTEM: 'tank/env' };
    const pick = (s: Settings): [unknown, unknown] => [s.filesystem, s.compressor];
    expect(pick(resolveSettings(sources(text, env), { filesystem: 'tank/flag' }))).toEqual([
      'tank/flag',
      'gpg',
    ]);
    expect(pick(resolveSettings(sources(text, env), {}))).toEqual(['tank/env', 'zstd']);
    expect(pick(resolveSettings(sources(text), {}))).toEqual(['tank/main', 'pigz4']);
    expect(pick(resolveSettings(sources(undefined), {}))).toEqual([undefined, 'pigz1']);
    expect(pick(resolveSettings(sources(text, { FILESYSTEM: 'tank/none' }), {}))).toEqual([
      'tank/none',
      'none',
    ]);
  });

  it('falls back to [DEFAULT] below [main]', () => {
    const text = ini({ DEFAULT: { BUCKET: 'd', COMPRESSOR: 'xz' }, main: { COMPRESSOR: 'lz4' } });
    const s = resolveSettings(sources(text), {});
    expect([s.bucket, s.compressor]).toEqual(['d', 'lz4']);
  });

  it('reads keys case-insensitively from the file', () => {
    const s = resolveSettings(sources('[main]\nbucket = b\nCompressor = gpg\n'), {});
    expect([s.bucket, s.compressor]).toEqual(['b', 'gpg']);
  });

  it('gives the documented defaults with no file and no environment', () => {
    expect(resolveSettings(sources(undefined), {})).toEqual({
      bucket: undefined,
      s3KeyId: undefined,
      s3Secret: undefined,
      endpoint: undefined,
      s3Region: undefined,
      s3ForcePathStyle: false,
      s3Prefix: 'z3-backup/',
      s3PrefixRaw: 'z3-backup/',
      filesystem: undefined,
      snapshotPrefix: 'zfs-auto-snap:daily',
      compressor: 'pigz1',
      gpgRecipient: 'z3_backup',
      concurrency: 32,
      chunkSize: 256 * M,
      chunkSizeIsSet: false,
      segmentSize: undefined,
      maxRetries: 3,
      storageClass: 'STANDARD_IA',
      backupDir: undefined,
      sshOptions: [],
      metadataCacheDir: undefined,
      lockDir: LOCK_DIR_HERE,
      stateDir: STATE_DIR_HERE,
      retention: {},
      chainLimits: {},
      bandwidth: { upload: undefined, download: undefined },
      sendFlags: new Set(),
      hold: true,
      datasets: [],
      metricsFile: undefined,
      configFile: undefined,
    } satisfies Settings);
  });

  it('z3.conf.sample resolves to the defaults, with its [fs:] examples applied', () => {
    const text = readFileSync(new URL('../../z3.conf.sample', import.meta.url), 'utf8');
    const plain = resolveSettings(sources(text), {});
    expect(plain).toEqual({
      ...resolveSettings(sources(undefined), {}),
      configFile: { path: FILE, fsDatasets: ['tank/spam', 'tank/vm-images/v1.2:prod_db'] },
    });
    const dotted = resolveSettings(sources(text), { filesystem: 'tank/vm-images/v1.2:prod_db' });
    expect([dotted.compressor, dotted.storageClass, dotted.chunkSize]).toEqual([
      'zstd',
      'GLACIER_IR',
      1024 * M,
    ]);
    expect(resolveSettings(sources(text), { filesystem: 'tank/spam' }).compressor).toBe('pigz4');
  });
});

describe('resolveSettings values', () => {
  it.each([
    ['minio.local', 'https://minio.local'],
    ['minio.local:9000', 'https://minio.local:9000'],
    ['10.0.0.5', 'https://10.0.0.5'],
    ['[::1]:9000', 'https://[::1]:9000'],
    ['http://127.0.0.1:9000', 'http://127.0.0.1:9000'],
    ['https://s3.eu-central-1.amazonaws.com', 'https://s3.eu-central-1.amazonaws.com'],
    ['HTTPS://Ceph.Example/', 'HTTPS://Ceph.Example/'],
    ['', undefined],
  ])('HOST %j → %j', (host, endpoint) => {
    expect(resolveSettings(sources(undefined, { HOST: host }), {}).endpoint).toBe(endpoint);
  });

  it.each(['ftp://x', 'htps://x', 'a b', 'host/path', 'user@host', 'http://', ':9000'])(
    'rejects HOST %j',
    (host) => {
      expect(configError(() => resolveSettings(sources(undefined, { HOST: host }), {}))).toBe(
        'environment HOST: expected a host name or an http:// or https:// URL',
      );
    },
  );

  it('CACHE_DIR: a path, off/none, else $XDG_CACHE_HOME/z3, else $HOME/.cache/z3', () => {
    const dir = (env: Env): string | undefined =>
      resolveSettings(sources(undefined, env), {}).metadataCacheDir;
    const home = { HOME: '/home/u' };
    expect(dir(home)).toBe('/home/u/.cache/z3');
    expect(dir({ ...home, XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/z3');
    expect(dir({ ...home, XDG_CACHE_HOME: 'relative' })).toBe('/home/u/.cache/z3');
    expect(dir({ ...home, XDG_CACHE_HOME: '' })).toBe('/home/u/.cache/z3');
    expect(dir({ ...home, CACHE_DIR: '/var/cache/z3' })).toBe('/var/cache/z3');
    expect(dir({ ...home, CACHE_DIR: '' })).toBe('/home/u/.cache/z3');
    expect(dir({ ...home, CACHE_DIR: 'off' })).toBeUndefined();
    expect(dir({ ...home, CACHE_DIR: ' None ' })).toBeUndefined();
    expect(dir({ HOME: '' })).toBeUndefined();
    expect(configError(() => resolveSettings(sources(undefined, { CACHE_DIR: 'cache' }), {}))).toBe(
      'environment CACHE_DIR: expected an absolute directory path, or off',
    );
  });

  it('LOCK_DIR: a path, else /run/z3 for root, else $XDG_RUNTIME_DIR/z3, else <tmpdir>/z3-<uid>', () => {
    const user = { env: { XDG_RUNTIME_DIR: '/run/user/1000' }, uid: 1000, tmpdir: '/tmp' };
    expect(defaultLockDir({ ...user, uid: 0 })).toBe('/run/z3');
    expect(defaultLockDir(user)).toBe('/run/user/1000/z3');
    expect(defaultLockDir({ ...user, env: { XDG_RUNTIME_DIR: 'run' } })).toBe('/tmp/z3-1000');
    expect(defaultLockDir({ ...user, env: {} })).toBe('/tmp/z3-1000');
    const dir = (env: Env): string => resolveSettings(sources(undefined, env), {}).lockDir;
    expect(dir({ LOCK_DIR: '/var/lock/z3' })).toBe('/var/lock/z3');
    expect(dir({ LOCK_DIR: ' ' })).toBe(LOCK_DIR_HERE);
    expect(configError(() => dir({ LOCK_DIR: 'locks' }))).toBe(
      'environment LOCK_DIR: expected an absolute directory path',
    );
  });

  it('lets an empty environment value cancel an optional key from the file', () => {
    const s = resolveSettings(
      sources('[main]\nHOST = h\nBUCKET = b\n', { HOST: '', BUCKET: '' }),
      {},
    );
    expect([s.endpoint, s.bucket, s.s3ForcePathStyle]).toEqual([undefined, undefined, false]);
  });

  it('HOLD is on by default and turned off by no/false/0/off; anything else is refused', () => {
    const resolve = (env: Env): boolean => resolveSettings(sources(undefined, env), {}).hold;
    expect(resolve({})).toBe(true);
    expect(resolve({ HOLD: 'no' })).toBe(false);
    expect(resolve({ HOLD: 'OFF' })).toBe(false);
    expect(resolve({ HOLD: 'yes' })).toBe(true);
    expect(() => resolve({ HOLD: 'maybe' })).toThrow(/HOLD: expected true or false/);
  });

  it('defaults path-style addressing to true only when HOST is set', () => {
    const resolve = (env: Env): boolean =>
      resolveSettings(sources(undefined, env), {}).s3ForcePathStyle;
    expect(resolve({})).toBe(false);
    expect(resolve({ HOST: 'minio:9000' })).toBe(true);
    expect(resolve({ HOST: 'minio:9000', S3_FORCE_PATH_STYLE: 'false' })).toBe(false);
    expect(resolve({ HOST: 'minio:9000', S3_FORCE_PATH_STYLE: '' })).toBe(true);
    expect(resolve({ S3_FORCE_PATH_STYLE: 'YES' })).toBe(true);
    expect(resolve({ S3_FORCE_PATH_STYLE: '1' })).toBe(true);
    expect(resolve({ HOST: 'h', S3_FORCE_PATH_STYLE: '0' })).toBe(false);
  });

  it.each([
    // [case, config file, environment, flags, expected storage class]
    ['AWS, set nowhere', '', {}, {}, 'STANDARD_IA'],
    ['HOST in env, set nowhere', '', { HOST: 'rgw:7480' }, {}, undefined],
    ['HOST in [main], set nowhere', '[main]\nHOST = rgw\n', {}, {}, undefined],
    ['HOST in [fs:], set nowhere', `[fs:${DATASET}]\nHOST = rgw\n`, {}, {}, undefined],
    ['HOST cancelled by HOST=', '[main]\nHOST = rgw\n', { HOST: '' }, {}, 'STANDARD_IA'],
    ['HOST, flag', '', { HOST: 'rgw' }, { storageClass: 'STANDARD' }, 'STANDARD'],
    ['HOST, env', '', { HOST: 'rgw', S3_STORAGE_CLASS: 'COLD' }, {}, 'COLD'],
    ['HOST, [fs:]', `[fs:${DATASET}]\nS3_STORAGE_CLASS = FS\n`, { HOST: 'rgw' }, {}, 'FS'],
    ['HOST, [main]', '[main]\nS3_STORAGE_CLASS = MAIN\n', { HOST: 'rgw' }, {}, 'MAIN'],
    ['HOST, [DEFAULT]', '[DEFAULT]\nS3_STORAGE_CLASS = DEF\n', { HOST: 'rgw' }, {}, 'DEF'],
    ['AWS, [main]', '[main]\nS3_STORAGE_CLASS = GLACIER_IR\n', {}, {}, 'GLACIER_IR'],
  ] satisfies [string, string, Env, SettingFlags, string | undefined][])(
    'S3_STORAGE_CLASS: %s',
    (_case, text, env, flags, expected) => {
      const file = text === '' ? undefined : text;
      const settings = resolveSettings(sources(file, { FILESYSTEM: DATASET, ...env }), flags);
      expect(settings.storageClass).toBe(expected);
    },
  );

  it('CHUNK_SIZE: says whether it was set in any layer (backup uses it only then)', () => {
    const isSet = (text: string | undefined, env: Env, flags: SettingFlags = {}): boolean =>
      resolveSettings(sources(text, { FILESYSTEM: DATASET, ...env }), flags).chunkSizeIsSet;
    expect(isSet(undefined, {})).toBe(false);
    expect(isSet('[main]\nCONCURRENCY = 4\n', {})).toBe(false);
    expect(isSet(undefined, {}, { chunkSize: '256M' })).toBe(true);
    expect(isSet(undefined, { CHUNK_SIZE: '256M' })).toBe(true);
    expect(isSet(`[fs:${DATASET}]\nCHUNK_SIZE = 1G\n`, {})).toBe(true);
    expect(isSet('[main]\nCHUNK_SIZE = 64M\n', {})).toBe(true);
    expect(isSet('[DEFAULT]\nCHUNK_SIZE = 64M\n', {})).toBe(true);
  });

  it('SEGMENT_SIZE: a size like CHUNK_SIZE, at least one part; unset or empty is none', () => {
    const size = (env: Env, flags: SettingFlags = {}): number | undefined =>
      resolveSettings(sources(undefined, { FILESYSTEM: DATASET, ...env }), flags).segmentSize;
    expect(size({})).toBeUndefined();
    expect(size({ SEGMENT_SIZE: '' })).toBeUndefined();
    expect(size({ SEGMENT_SIZE: '12M' })).toBe(12 * 1024 * 1024);
    expect(size({}, { segmentSize: '1T' })).toBe(1024 ** 4);
    expect(() => size({ SEGMENT_SIZE: '4M' })).toThrow(
      /SEGMENT_SIZE: expected a size of at least 5M/,
    );
    expect(() => size({ SEGMENT_SIZE: 'big' })).toThrow(/SEGMENT_SIZE: expected a size like 1T/);
  });

  it('BACKUP_DIR: an absolute path; empty is none', () => {
    const dir = (env: Env): string | undefined =>
      resolveSettings(sources(undefined, env), {}).backupDir;
    expect(dir({ BACKUP_DIR: '/mnt/backup' })).toBe('/mnt/backup');
    expect(dir({ BACKUP_DIR: ' /mnt/backup ' })).toBe('/mnt/backup');
    expect(dir({ BACKUP_DIR: '' })).toBeUndefined();
    expect(configError(() => dir({ BACKUP_DIR: 'mnt/backup' }))).toBe(
      'environment BACKUP_DIR: expected an absolute directory path',
    );
    expect(configError(() => resolveSettings(sources('[main]\nBACKUP_DIR = ./b\n'), {}))).toBe(
      `${FILE} [main] BACKUP_DIR: expected an absolute directory path`,
    );
    expect(configError(() => resolveSettings(sources(undefined), { backupDir: '~/b' }))).toBe(
      '--backup-dir BACKUP_DIR: expected an absolute directory path',
    );
  });

  it('S3_PREFIX beginning with / (keys beginning with /) is for buckets only', () => {
    const env = { BACKUP_DIR: '/mnt/backup' };
    expect(configError(() => resolveSettings(sources(undefined, env), { s3Prefix: '/' }))).toBe(
      '--s3-prefix S3_PREFIX: a prefix beginning with / is for buckets only ' +
        '(a local directory cannot hold keys beginning with /); with BACKUP_DIR leave it out',
    );
    expect(resolveSettings(sources(undefined, { BUCKET: 'b' }), { s3Prefix: '/' }).s3Prefix).toBe(
      '/',
    );
  });

  it.each([
    // [case, config file, environment, flags]
    ['both in [main]', '[main]\nBUCKET = b\nBACKUP_DIR = /d\n', {}, {}],
    ['BUCKET in [main], BACKUP_DIR in env', '[main]\nBUCKET = b\n', { BACKUP_DIR: '/d' }, {}],
    [
      'BUCKET in env, BACKUP_DIR in [fs:]',
      `[fs:${DATASET}]\nBACKUP_DIR = /d\n`,
      { BUCKET: 'b' },
      {},
    ],
    ['BUCKET in [DEFAULT], --backup-dir', '[DEFAULT]\nBUCKET = b\n', {}, { backupDir: '/d' }],
  ] satisfies [string, string, Env, SettingFlags][])(
    'BUCKET and BACKUP_DIR both set (%s) is a config error',
    (_case, text, env, flags) => {
      const resolve = (): Settings =>
        resolveSettings(sources(text, { FILESYSTEM: DATASET, ...env }), flags);
      expect(configError(resolve)).toMatch(/^BUCKET \(.+\) and BACKUP_DIR \(.+\) are both set$/);
      expect(resolve).toThrow(expect.objectContaining({ hint: expect.any(String) as string }));
    },
  );

  it('an empty BUCKET or BACKUP_DIR unsets it, so the other one may be used', () => {
    const text = '[main]\nBUCKET = b\nBACKUP_DIR = /d\n';
    const a = resolveSettings(sources(text, { BUCKET: '' }), {});
    expect([a.bucket, a.backupDir]).toEqual([undefined, '/d']);
    const b = resolveSettings(sources(text, { BACKUP_DIR: '' }), {});
    expect([b.bucket, b.backupDir]).toEqual(['b', undefined]);
  });

  it('takes the region from S3_REGION, then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    const region = (env: Env): string | undefined =>
      resolveSettings(sources(undefined, env), {}).s3Region;
    const all = { S3_REGION: 's3', AWS_REGION: 'aws', AWS_DEFAULT_REGION: 'default' };
    expect(region(all)).toBe('s3');
    expect(region({ ...all, S3_REGION: '' })).toBe('aws');
    expect(region({ AWS_REGION: '', AWS_DEFAULT_REGION: 'default' })).toBe('default');
    expect(region({})).toBeUndefined();
  });

  it.each([
    ['z3-backup', 'z3-backup/'],
    ['z3-backup/', 'z3-backup/'],
    ['a/b///', 'a/b/'],
    ['/lead', '/lead/'],
    // spec 13.8: the original gave "/"; keys now sit at the bucket root
    ['', ''],
    // ...and "/" names the original's empty prefix: keys beginning with "/"
    ['/', '/'],
  ])('normalizePrefix(%j) → %j', (raw, normalized) => {
    expect(normalizePrefix(raw)).toBe(normalized);
    expect(resolveSettings(sources(undefined), { s3Prefix: raw })).toMatchObject({
      s3Prefix: normalized,
      s3PrefixRaw: raw,
    });
  });

  it('registers S3_SECRET (not the key id) for redaction', () => {
    const env = { S3_KEY_ID: 'AKIAREGISTERME123', S3_SECRET: 'very/secret+value' };
    resolveSettings(sources(undefined, env), {});
    expect(redact('id AKIAREGISTERME123 secret very/secret+value')).toBe(
      'id AKIAREGISTERME123 secret ***',
    );
  });

  it('splits SSH_OPTIONS on whitespace', () => {
    const text = '[main]\nSSH_OPTIONS = -o BatchMode=yes   -p 2222\n';
    expect(resolveSettings(sources(text), {}).sshOptions).toEqual([
      '-o',
      'BatchMode=yes',
      '-p',
      '2222',
    ]);
  });
});

describe('resolveSettings errors: <where> <KEY>: <what is expected>', () => {
  const inFs = (key: string, value: string): ConfigSources =>
    sources(ini({ main: { FILESYSTEM: 'tank/a' }, 'fs:tank/a': { [key]: value } }));

  it('names file and section for file values', () => {
    expect(configError(() => resolveSettings(inFs('CHUNK_SIZE', '12X'), {}))).toBe(
      `${FILE} [fs:tank/a] CHUNK_SIZE: expected a size like 256M`,
    );
    expect(configError(() => resolveSettings(sources('[main]\nmax_retries = 0\n'), {}))).toBe(
      `${FILE} [main] MAX_RETRIES: expected a whole number from 1 to 100`,
    );
  });

  it('SEND_FLAGS: an unknown flag names file and section', () => {
    expect(configError(() => resolveSettings(inFs('SEND_FLAGS', 'raw -R'), {}))).toBe(
      `${FILE} [fs:tank/a] SEND_FLAGS: unknown flag '-R'; expected raw (-w), compressed (-c), large-blocks (-L), embed (-e), props (-p)`,
    );
  });

  it('SEND_FLAGS from [fs:] over [main]', () => {
    const text = ini({
      main: { FILESYSTEM: 'tank/a', SEND_FLAGS: '-c' },
      'fs:tank/a': { SEND_FLAGS: 'raw, large-blocks' },
    });
    expect([...resolveSettings(sources(text), {}).sendFlags]).toEqual(['raw', 'large-blocks']);
  });

  it('DATASETS: names separated by whitespace or commas, duplicates dropped', () => {
    const text = ini({ main: { DATASETS: 'tank/a, tank/b\ttank/c,,tank/a' } });
    expect(resolveSettings(sources(text), {}).datasets).toEqual(['tank/a', 'tank/b', 'tank/c']);
    expect(resolveSettings(sources(text, { DATASETS: 'tank/x' }), {}).datasets).toEqual(['tank/x']);
  });

  it('names the environment for environment values', () => {
    expect(
      configError(() => resolveSettings(sources(undefined, { CONCURRENCY: 'many' }), {})),
    ).toBe('environment CONCURRENCY: expected a whole number from 1 to 1000');
  });

  it('names the flag for command-line values', () => {
    expect(configError(() => resolveSettings(sources(undefined), { concurrency: '0' }))).toBe(
      '--concurrency CONCURRENCY: expected a whole number from 1 to 1000',
    );
    expect(configError(() => resolveSettings(sources(undefined), { chunkSize: '4M' }))).toBe(
      `--chunk-size CHUNK_SIZE: ${chunkSizeRule(MAX_PART_SIZE)}`,
    );
    expect(configError(() => resolveSettings(sources(undefined), { compressor: 'gzip' }))).toBe(
      '--compressor COMPRESSOR: expected one of pigz1, pigz4, gpg, none, zstd, lz4, xz',
    );
    expect(
      configError(() => resolveSettings(sources(undefined), { storageClass: 'standard' })),
    ).toBe(
      '--storage-class S3_STORAGE_CLASS: expected an upper-case storage class like STANDARD_IA',
    );
  });

  it.each([
    ['CONCURRENCY', '1001'],
    ['CONCURRENCY', '1.5'],
    ['CONCURRENCY', ''],
    ['MAX_RETRIES', '101'],
    ['MAX_RETRIES', '-1'],
    ['CHUNK_SIZE', '6G'],
    ['CHUNK_SIZE', ''],
    ['COMPRESSOR', ''],
    ['S3_STORAGE_CLASS', ''],
    ['S3_FORCE_PATH_STYLE', 'maybe'],
  ])('rejects %s=%j', (key, value) => {
    expect(configError(() => resolveSettings(inFs(key, value), {}))).toMatch(
      new RegExp(`^${FILE} \\[fs:tank/a\\] ${key}: expected `),
    );
  });

  it('does not validate values from layers that lost', () => {
    const s = resolveSettings(sources('[main]\nCONCURRENCY = lots\n', { CONCURRENCY: '4' }), {});
    expect(s.concurrency).toBe(4);
  });
});

describe('CHUNK_SIZE upper limit', () => {
  const GIB = 1024 * M;
  const chunkSizeOf = (text: string): number =>
    resolveSettings(sources(`[main]\nCHUNK_SIZE = ${text}\n`), {}).chunkSize;

  it('is the largest part this Node.js can allocate, at most 5G', () => {
    expect(chunkSizeOf(String(MAX_PART_SIZE))).toBe(MAX_PART_SIZE);
    expect(() => chunkSizeOf(String(MAX_PART_SIZE + 1))).toThrow(
      `${FILE} [main] CHUNK_SIZE: ${chunkSizeRule(MAX_PART_SIZE)}`,
    );
  });

  it('refuses 4.5G where a Buffer holds less (Node 20), rather than failing mid-run', () => {
    const fits = constants.MAX_LENGTH >= 4.5 * GIB;
    if (fits) expect(chunkSizeOf('4.5G')).toBe(4.5 * GIB);
    else expect(() => chunkSizeOf('4.5G')).toThrow(ConfigError);
  });

  it('names the limit that applies', () => {
    expect(chunkSizeRule(4 * GIB)).toBe(
      'expected a size from 5M to 4G (S3 allows parts up to 5G; this Node.js allocates at most 4G in one buffer)',
    );
    expect(chunkSizeRule(2 ** 53 - 1)).toBe(
      'expected a size from 5M to 5G (the S3 part size limits)',
    );
  });
});
