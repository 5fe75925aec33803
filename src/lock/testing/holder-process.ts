/**
 * A lock holder in another process, for the lock's tests: a real Node child that takes the
 * lock with the real `acquireLock` (this folder's sources, transpiled once into a temporary
 * directory, since Node 20 cannot run TypeScript), prints `locked <pid>`, and holds it until
 * its stdin closes (then releases and exits 0) or it is killed. A test can so check what only
 * another process shows: the loser's message naming the holder's pid, and that kill -9 of the
 * holder frees the lock.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const SCRIPT = `
import { spawn } from 'node:child_process';
import { acquireLock } from './lock/acquire.js';
const [dir, name, description, grandchild] = process.argv.slice(2);
const lock = await acquireLock({ dir, name, description, wait: false, signal: new AbortController().signal });
const extra = grandchild === 'yes'
  ? spawn('sleep', ['600'], { stdio: 'ignore', detached: true })
  : undefined;
extra?.unref();
process.stdout.write('locked ' + process.pid + ' ' + (extra?.pid ?? '') + '\\n');
process.stdin.resume();
process.stdin.on('end', () => { lock.release(); process.exit(0); });
`;

export interface Holder {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  /** The pid of a process it spawned after taking the lock (with `grandchild`). */
  grandchildPid: number | undefined;
  /** Close its stdin (it releases the lock and exits 0) and wait for it to exit. */
  release(): Promise<void>;
  /** kill -9, and wait until it is gone. */
  killHard(): Promise<void>;
}

/** The transpiled sources: create once per test file, `cleanup` in afterAll. */
export interface HolderProgram {
  start(input: {
    dir: string;
    name: string;
    description: string;
    grandchild?: boolean;
  }): Promise<Holder>;
  cleanup(): void;
}

export function createHolderProgram(): HolderProgram {
  const out = mkdtempSync(join(tmpdir(), 'z3-lock-holder-'));
  transpileTree(join(SRC, 'lock/acquire.ts'), out);
  const script = join(out, 'holder.mjs');
  writeFileSync(script, SCRIPT);
  return {
    start: (input) => startHolder(script, input),
    cleanup: () => rmSync(out, { recursive: true, force: true }),
  };
}

async function startHolder(
  script: string,
  input: { dir: string; name: string; description: string; grandchild?: boolean },
): Promise<Holder> {
  const args = [script, input.dir, input.name, input.description, input.grandchild ? 'yes' : ''];
  const child = spawn(process.execPath, args, { stdio: 'pipe' });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = once(child, 'exit');
  const line = await Promise.race([
    once(createInterface({ input: child.stdout }), 'line') as Promise<[string]>,
    exited.then(() => {
      throw new Error(`the lock holder exited before locking: ${stderr}`);
    }),
  ]);
  const [, pid, grandchild] = line[0].split(' ');
  return {
    child,
    pid: Number(pid),
    grandchildPid: grandchild === '' || grandchild === undefined ? undefined : Number(grandchild),
    release: async () => {
      child.stdin.end();
      await exited;
    },
    killHard: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Transpile `entry` and every module it imports by a relative path, keeping the layout under src/. */
function transpileTree(entry: string, out: string): void {
  const pending = [entry];
  const seen = new Set<string>();
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const target = join(out, relative(SRC, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
    for (const match of js.matchAll(/from '(\.\.?\/[^']+)\.js'/g)) {
      pending.push(resolve(dirname(file), `${match[1]}.ts`));
    }
  }
}
