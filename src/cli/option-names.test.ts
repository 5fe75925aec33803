// Every flag that an error message or a hint names is an option a program really has. The
// programs are built by their own entry points (parsing stopped before it starts), and the hints
// are read from the source with the TypeScript parser, so a renamed or invented flag fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import ts from 'typescript';
import { describe, expect, it, vi } from 'vitest';
import { runPput } from './pput-program.js';
import { runSshSync } from './ssh-sync-program.js';
import { runZ3Get } from './z3-get-program.js';
import { SETTING_FLAGS } from '../config/settings.js';
import { knownOptionsOf } from './args.js';
import type { MainContext } from './run-main.js';
import { runZ3 } from './z3-program.js';

const SRC = new URL('..', import.meta.url).pathname;
const FLAG = /(?<![\w-])--[a-z][a-z0-9-]*/g;

/** The program `main` builds, taken at its `parseAsync` call, which is not run. */
async function programOf(
  main: (ctx: MainContext) => Promise<number>,
  argv: string[],
): Promise<Command> {
  const spy = vi.spyOn(Command.prototype, 'parseAsync').mockImplementation(function (
    this: Command,
  ) {
    return Promise.resolve(this);
  });
  try {
    await main({ argv, signal: new AbortController().signal });
    const [built] = spy.mock.contexts;
    if (!(built instanceof Command)) throw new Error('the program was never parsed');
    return built;
  } finally {
    spy.mockRestore();
  }
}

/** Every command a user runs (`z3 backup`, `pput`, …): the leaves of each program. */
async function commands(): Promise<Command[]> {
  const z3 = await programOf(runZ3, ['status']);
  // One at a time: each spies on the same prototype method.
  const others = [
    await programOf(runPput, ['key']),
    await programOf(runZ3Get, ['key']),
    await programOf(runSshSync, ['host']),
  ];
  expect(z3.commands.map((c) => c.name())).toEqual([
    'status',
    'backup',
    'restore',
    'prune',
    'verify',
    'holds',
    'cleanup',
  ]);
  return [...z3.commands, ...others];
}

/** The text of every string in the value of a `hint:` or `onBadArgument:` property in src. */
function hintTexts(): { file: string; text: string }[] {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  );
  const out: { file: string; text: string }[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(
      file,
      readFileSync(join(SRC, file), 'utf8'),
      ts.ScriptTarget.Latest,
    );
    const strings = (node: ts.Node): void => {
      if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
        out.push({ file, text: node.text });
      }
      node.forEachChild(strings);
    };
    const visit = (node: ts.Node): void => {
      if (
        ts.isPropertyAssignment(node) &&
        ['hint', 'onBadArgument'].includes(node.name.getText(source))
      ) {
        strings(node.initializer);
      }
      node.forEachChild(visit);
    };
    visit(source);
  }
  return out;
}

describe('flags named in messages and hints', () => {
  it('every flag the config layer names for a value is an option of some program', async () => {
    const options = new Set((await commands()).flatMap(knownOptionsOf));
    for (const [field, { option }] of Object.entries(SETTING_FLAGS)) {
      expect(options.has(option), `${field}: ${option}`).toBe(true);
    }
  });

  it('an option documented as a config key: the config layer names a flag of that program', async () => {
    const byKey = new Map<string, string>(
      Object.values(SETTING_FLAGS).map((f) => [f.key, f.option]),
    );
    for (const command of await commands()) {
      const known = knownOptionsOf(command);
      for (const option of command.options) {
        const documented = `${option.flags} ${option.description}`.match(/\b[A-Z][A-Z0-9_]+\b/g);
        for (const key of documented ?? []) {
          const named = byKey.get(key);
          if (named === undefined) continue;
          expect(known, `${command.name()} ${option.long ?? ''} (${key})`).toContain(named);
        }
      }
    }
  });

  it('every hint in the source names only options that exist', async () => {
    const options = new Set((await commands()).flatMap(knownOptionsOf));
    const hints = hintTexts();
    expect(hints.length).toBeGreaterThan(10);
    for (const { file, text } of hints) {
      for (const flag of text.match(FLAG) ?? []) {
        expect(options.has(flag), `${file}: ${flag} in "${text}"`).toBe(true);
      }
    }
  });
});
