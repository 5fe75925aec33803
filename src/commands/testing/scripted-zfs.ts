/**
 * A scripted `zfs` for the commands' unit tests: a real executable (a small Node script) that
 * the commands spawn exactly as they spawn the real one, driven by a JSON state file beside it.
 * It answers the few commands z3 runs (list, send -nvP, send, receive), sends deterministic
 * bytes that name their snapshot and base, and receives them with zfs's own rules for an
 * incremental ("does not match incremental source"), so a test sees the order of steps, the
 * commit gate (a send told to die mid-stream), and what a restore received.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How `zfs send` of one snapshot behaves. */
export interface ScriptedSend {
  /** Bytes of the stream (default 3000). */
  size?: number;
  /** Write this many bytes, then exit with `exitCode` (default 1) and a message on stderr. */
  failAfter?: number;
  exitCode?: number;
  /** What `zfs send -nvP` estimates (default `size`): a zfs that lies, or a short stream. */
  estimate?: number;
  /** Write this many bytes, then pause for `pauseMs` before the rest (a slow send). */
  pauseAfter?: number;
  pauseMs?: number;
}

export interface ScriptedZfsState {
  /** Each dataset and its snapshots (full names), oldest first. */
  datasets: Record<string, string[]>;
  /**
   * Per snapshot (full name): its `creation`, seconds since the epoch; default
   * SCRIPTED_CREATION_BASE plus a day per position in its dataset. Its guid is 1000 + position.
   */
  creations?: Record<string, number>;
  /** Per snapshot (full name): its guid instead of 1000 + position (a re-created snapshot). */
  guids?: Record<string, string>;
  /** Per snapshot (full name): how its send behaves. */
  sends?: Record<string, ScriptedSend>;
  /** Per snapshot (full name): its createtxg instead of 1 + position (snapshots destroyed before it). */
  txgs?: Record<string, number>;
  /** Per snapshot (full name): the tags of its holds (`zfs hold` / `release` / `holds`). */
  holds?: Record<string, string[]> | undefined;
  /** Bookmarks (`zfs bookmark`), with the snapshot, guid and createtxg they were made from. */
  bookmarks?: ScriptedBookmark[] | undefined;
  /** Per subcommand (`hold`, `release`, `bookmark`, `holds`): fail it with this message. */
  failures?: Record<string, string>;
  /** What `zfs receive` got, in order (written by the script), with the MD5 (hex) of its bytes. */
  received?: {
    target: string;
    force: boolean;
    snapshot: string;
    from: string;
    bytes: number;
    md5?: string;
  }[];
  /** Every argv the script was run with (written by the script). */
  calls?: string[][];
}

/** One bookmark of the scripted zfs. */
export interface ScriptedBookmark {
  name: string;
  snapshot: string;
  guid: string;
  createtxg: number;
}

export interface ScriptedZfs {
  /** The executable to pass as the ports' `zfs`. */
  program: string;
  /** The state as the script left it. */
  state(): ScriptedZfsState;
  cleanup(): void;
}

/** The default `creation` of a dataset's first snapshot: 2026-11-01T00:00:00Z. */
export const SCRIPTED_CREATION_BASE = 1_793_491_200;

/** Create the script in a temp directory with `initial` as its state. */
export function createScriptedZfs(initial: ScriptedZfsState): ScriptedZfs {
  const dir = mkdtempSync(join(tmpdir(), 'z3-scripted-zfs-'));
  const statePath = join(dir, 'state.json');
  const program = join(dir, 'zfs');
  writeFileSync(
    statePath,
    JSON.stringify({
      received: [],
      calls: [],
      sends: {},
      ...initial,
      holds: initial.holds ?? {},
      bookmarks: initial.bookmarks ?? [],
    }),
  );
  writeFileSync(
    program,
    `#!${process.execPath}\n${SCRIPT.replace('STATE_PATH', JSON.stringify(statePath)).replace('CREATION_BASE_VALUE', String(SCRIPTED_CREATION_BASE))}`,
  );
  chmodSync(program, 0o755);
  return {
    program,
    state: () => JSON.parse(readFileSync(statePath, 'utf8')) as ScriptedZfsState,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The stream of `snapshot` (from `from`, '' for a full): a header line, then filler bytes. */
export function scriptedStream(snapshot: string, from: string, size: number): Buffer {
  const header = Buffer.from(`Z3FAKE\t${snapshot}\t${from}\n`);
  const out = Buffer.alloc(Math.max(size, header.length));
  header.copy(out);
  for (let i = header.length; i < out.length; i++) out[i] = (i * 31 + snapshot.length) & 0xff;
  return out;
}

// The script itself: plain JavaScript, no dependencies, one state file.
const SCRIPT = String.raw`
const fs = require('node:fs');
const statePath = STATE_PATH;
const CREATION_BASE = CREATION_BASE_VALUE;
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
const argv = process.argv.slice(2);
state.calls.push(argv);
// written aside and renamed: runs at the same time (--jobs, locks) never read a half-written file
const save = () => {
  const aside = statePath + '.' + process.pid;
  fs.writeFileSync(aside, JSON.stringify(state));
  fs.renameSync(aside, statePath);
};
const fail = (msg, code = 1) => { save(); process.stderr.write(msg + '\n'); process.exit(code); };
const stream = (snap, from, size) => {
  const header = Buffer.from('Z3FAKE\t' + snap + '\t' + from + '\n');
  const out = Buffer.alloc(Math.max(size, header.length));
  header.copy(out);
  for (let i = header.length; i < out.length; i++) out[i] = (i * 31 + snap.length) & 0xff;
  return out;
};
const exists = (ds) => Object.prototype.hasOwnProperty.call(state.datasets, ds);
const [cmd, ...rest] = argv;
const creation = (s, i) => (state.creations || {})[s] ?? CREATION_BASE + i * 86400;
const guid = (s, i) => (state.guids || {})[s] ?? String(1000 + i);
const txg = (s, i) => (state.txgs || {})[s] ?? i + 1;
const snapOf = (name) => {
  const ds = name.split('@')[0];
  const i = exists(ds) ? state.datasets[ds].indexOf(name) : -1;
  if (i < 0) fail("cannot open '" + name + "': dataset does not exist");
  return { i, guid: guid(name, i), createtxg: txg(name, i) };
};
if (state.failures && state.failures[cmd]) fail(state.failures[cmd]);
if (cmd === 'list') {
  const ds = rest[rest.length - 1];
  if (!exists(ds)) fail("cannot open '" + ds + "': dataset does not exist");
  save();
  if (rest.includes('snapshot')) {
    process.stdout.write(state.datasets[ds].map((s, i) => s + '\t' + txg(s, i) + '\t0\t0\t' + creation(s, i) + '\t' + guid(s, i) + '\n').join(''));
  } else if (rest.includes('bookmark')) {
    process.stdout.write(state.bookmarks.filter((b) => b.name.startsWith(ds + '#')).map((b) => b.name + '\t' + b.createtxg + '\t' + b.guid + '\n').join(''));
  } else if (rest.includes('-r')) {
    const tree = Object.keys(state.datasets).filter((d) => d === ds || d.startsWith(ds + '/'));
    process.stdout.write(tree.sort().map((d) => d + '\n').join(''));
  } else process.stdout.write(ds + '\n');
} else if (cmd === 'hold' || cmd === 'release') {
  const [tag, snap] = rest;
  snapOf(snap);
  const tags = state.holds[snap] || [];
  if (cmd === 'hold' && tags.includes(tag)) fail("cannot hold snapshot '" + snap + "': tag already exists on this dataset");
  if (cmd === 'release' && !tags.includes(tag)) fail("cannot release hold from snapshot '" + snap + "': no such tag on this dataset");
  state.holds[snap] = cmd === 'hold' ? [...tags, tag] : tags.filter((t) => t !== tag);
  save();
} else if (cmd === 'holds') {
  save();
  const snaps = rest.filter((a) => a !== '-H');
  snaps.forEach(snapOf);
  process.stdout.write(snaps.flatMap((s) => (state.holds[s] || []).map((t) => s + '\t' + t + '\tTue Dec  1 05:00 2026\n')).join(''));
} else if (cmd === 'bookmark') {
  const [snap, name] = rest;
  const { guid: g, createtxg } = snapOf(snap);
  if (state.bookmarks.some((b) => b.name === name)) fail("cannot create bookmark '" + name + "': bookmark exists");
  state.bookmarks.push({ name, snapshot: snap, guid: g, createtxg });
  save();
} else if (cmd === 'send') {
  const snap = rest[rest.length - 1];
  const i = rest.indexOf('-i');
  const fromArg = i >= 0 ? rest[i + 1] : '';
  const mark = state.bookmarks.find((b) => b.name === fromArg);
  if (fromArg.includes('#') && !mark) fail("cannot open '" + fromArg + "': dataset does not exist");
  const from = mark ? mark.snapshot : fromArg;
  const ds = snap.split('@')[0];
  if (!exists(ds) || !state.datasets[ds].includes(snap)) fail("cannot open '" + snap + "': dataset does not exist");
  const spec = state.sends[snap] || {};
  const size = spec.size ?? 3000;
  if (rest.includes('-nvP')) {
    save();
    const estimate = spec.estimate ?? size;
    process.stdout.write((from ? 'incremental\t' + from + '\t' : 'full\t') + snap + '\t' + estimate + '\nsize\t' + estimate + '\n');
  } else {
    save();
    const bytes = stream(snap, from, size);
    const n = spec.failAfter ?? bytes.length;
    const finish = () => {
      if (spec.failAfter !== undefined) { process.stderr.write('scripted send failure\n'); process.exit(spec.exitCode ?? 1); }
    };
    const pause = Math.min(spec.pauseAfter ?? n, n);
    process.stdout.write(bytes.subarray(0, pause), () => {
      setTimeout(() => process.stdout.write(bytes.subarray(pause, n), finish), spec.pauseMs ?? 0);
    });
  }
} else if (cmd === 'receive') {
  const target = rest[rest.length - 1];
  const force = rest.includes('-F');
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const data = Buffer.concat(chunks);
    const nl = data.indexOf(10);
    const [magic, snap, from] = data.subarray(0, nl).toString().split('\t');
    if (magic !== 'Z3FAKE') fail('invalid stream (bad magic number)');
    const ds = target.split('@')[0];
    const have = state.datasets[ds];
    if (from === '') {
      if (have && !force) fail("destination '" + ds + "' exists");
      state.datasets[ds] = [target];
    } else {
      const latest = have && have[have.length - 1];
      if (!latest || latest.split('@')[1] !== from.split('@')[1]) fail('cannot receive incremental stream: most recent snapshot of ' + ds + ' does not match incremental source');
      have.push(target);
    }
    const md5 = require('node:crypto').createHash('md5').update(data).digest('hex');
    state.received.push({ target, force, snapshot: snap, from, bytes: data.length, md5 });
    save();
  });
} else fail('scripted zfs: unexpected command: zfs ' + argv.join(' '));
`;
