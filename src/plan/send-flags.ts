/**
 * The `zfs send` flags a backup uses (SEND_FLAGS, `z3 backup --raw` …): parsed from the config,
 * turned into argv, recorded in each object's metadata (`sendflags`), and compared along a chain.
 * Pure.
 *
 * Why a chain pins them: a raw (`-w`) incremental cannot be received on top of a non-raw full
 * (and the other way round), and `-c` changes the record format a receiver must accept, so an
 * incremental must be sent the way its parent was.
 */
import { ConfigError } from '../errors.js';

/** One send flag: its name (SEND_FLAGS word and `--<name>` option) and its `zfs send` letter. */
interface SendFlagSpec {
  name: SendFlagName;
  letter: string;
}

/** The flags z3 can send with, in the order their letters are recorded and passed to zfs. */
const SEND_FLAG_SPECS: readonly SendFlagSpec[] = [
  { name: 'raw', letter: 'w' },
  { name: 'compressed', letter: 'c' },
  { name: 'large-blocks', letter: 'L' },
  { name: 'embed', letter: 'e' },
  { name: 'props', letter: 'p' },
];

export type SendFlagName = 'raw' | 'compressed' | 'large-blocks' | 'embed' | 'props';

/** The set of send flags of one backup; empty = a plain `zfs send`. */
export type SendFlags = ReadonlySet<SendFlagName>;

/** What an incremental must share with its parent: raw-ness and compression mode. */
export type StreamMode = 'plain' | 'raw' | 'compressed' | 'raw+compressed';

/**
 * Parse SEND_FLAGS: words (`raw compressed large-blocks embed props`) or zfs options (`-w -c -L
 * -e -p`), separated by spaces or commas; empty = none. Anything else (`-R`, a typo) is a
 * ConfigError naming `where` (z3 cannot restore a replication stream).
 */
export function parseSendFlags(raw: string, where: string): SendFlags {
  const flags = new Set<SendFlagName>();
  for (const word of raw.split(/[\s,]+/).filter((w) => w !== '')) {
    const spec = SEND_FLAG_SPECS.find((s) => s.name === word || `-${s.letter}` === word);
    if (spec === undefined) {
      const known = SEND_FLAG_SPECS.map((s) => `${s.name} (-${s.letter})`).join(', ');
      throw new ConfigError(`${where} SEND_FLAGS: unknown flag '${word}'; expected ${known}`);
    }
    flags.add(spec.name);
  }
  return flags;
}

/** The `zfs send` options of `flags`, e.g. `['-w', '-L']`, in a fixed order. */
export function sendFlagArgs(flags: SendFlags): string[] {
  return SEND_FLAG_SPECS.filter((s) => flags.has(s.name)).map((s) => `-${s.letter}`);
}

/** The `sendflags` metadata value: the letters in a fixed order (`wL`); `''` for none. */
export function formatSendFlags(flags: SendFlags): string {
  return SEND_FLAG_SPECS.filter((s) => flags.has(s.name))
    .map((s) => s.letter)
    .join('');
}

/**
 * Read a `sendflags` metadata value. Absent (Python z3, or z3 before send flags) is a plain
 * send; unknown letters are ignored, so a newer z3's extra flags do not make a chain unreadable.
 */
export function parseRecordedSendFlags(recorded: string | undefined): SendFlags {
  const letters = new Set(recorded ?? '');
  return new Set(SEND_FLAG_SPECS.filter((s) => letters.has(s.letter)).map((s) => s.name));
}

/** The part of `flags` an incremental must share with its parent. */
export function streamModeOf(flags: SendFlags): StreamMode {
  const isRaw = flags.has('raw');
  const isCompressed = flags.has('compressed');
  if (isRaw && isCompressed) return 'raw+compressed';
  if (isRaw) return 'raw';
  return isCompressed ? 'compressed' : 'plain';
}
