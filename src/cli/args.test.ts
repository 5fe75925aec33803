import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import {
  configureCommanderErrors,
  expandCommandLine,
  expandLongOptionPrefixes,
  knownOptionsOf,
  parseCommandLine,
  sizeArg,
  wholeNumberArg,
} from './args.js';
import { injected } from '../testing/faults.js';

const PPUT_OPTIONS = [
  '--chunk-size',
  '--estimated',
  '--file-descriptor',
  '--concurrency',
  '--metadata',
  '--storage-class',
  '--progress',
  '--quiet',
];

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

async function usageErrorAsync(run: () => Promise<unknown>): Promise<UsageError> {
  const err: unknown = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

/** A z3-like program; `seen` records what the action received. */
function z3Program(
  seen: { command?: string; opts?: Record<string, unknown>; args?: string[] } = {},
): Command {
  const program = new Command('z3')
    .option('--s3-prefix <prefix>')
    .option('--filesystem <fs>')
    .addOption(new Option('--dataset <fs>').hideHelp())
    .option('--snapshot-prefix <prefix>')
    .version('0.3.0');
  program
    .command('backup')
    .option('--dry-run')
    .option('--compressor <name>')
    .option('--full')
    .action((_opts: unknown, cmd: Command) => {
      seen.command = 'backup';
      seen.opts = cmd.optsWithGlobals();
    });
  program
    .command('restore')
    .argument('<snapshot>')
    .option('--dry-run')
    .option('--force')
    .action((snapshot: string, _opts: unknown, cmd: Command) => {
      seen.command = 'restore';
      seen.args = [snapshot];
      seen.opts = cmd.optsWithGlobals();
    });
  program.command('status').action(() => {
    seen.command = 'status';
  });
  return program;
}

describe('expandLongOptionPrefixes', () => {
  it.each([
    [
      ['--chunk-size', '5M'],
      ['--chunk-size', '5M'],
    ],
    [
      ['--meta', 'a=b'],
      ['--metadata', 'a=b'],
    ],
    [['--meta=a=b'], ['--metadata=a=b']],
    [
      ['--q', '--prog'],
      ['--quiet', '--progress'],
    ],
    [
      ['--est=100', 'name'],
      ['--estimated=100', 'name'],
    ],
    [
      ['--bogus', '-s', '5M', '-', 'name'],
      ['--bogus', '-s', '5M', '-', 'name'],
    ],
    [
      ['--meta', '--', '--meta', '--c'],
      ['--metadata', '--', '--meta', '--c'],
    ],
  ])('%j → %j', (argv, expanded) => {
    expect(expandLongOptionPrefixes(argv, PPUT_OPTIONS)).toEqual(expanded);
  });

  it('keeps an exact option even when it prefixes another', () => {
    expect(expandLongOptionPrefixes(['--full'], ['--full', '--full-name'])).toEqual(['--full']);
  });

  it('rejects an ambiguous prefix the way argparse words it', () => {
    const err = usageError(() => expandLongOptionPrefixes(['--d'], ['--dry-run', '--dataset']));
    expect(err.message).toBe('ambiguous option: --d could match --dry-run, --dataset');
    expect(usageError(() => expandLongOptionPrefixes(['--c=4'], PPUT_OPTIONS)).message).toBe(
      'ambiguous option: --c could match --chunk-size, --concurrency',
    );
  });
});

describe('knownOptionsOf', () => {
  it('collects the command, its ancestors and --help', () => {
    const program = z3Program();
    const backup = program.commands.find((c) => c.name() === 'backup')!;
    expect(knownOptionsOf(backup)).toEqual([
      '--dry-run',
      '--compressor',
      '--full',
      '--s3-prefix',
      '--filesystem',
      '--dataset',
      '--snapshot-prefix',
      '--version',
      '--help',
    ]);
    expect(knownOptionsOf(program)).toEqual([
      '--s3-prefix',
      '--filesystem',
      '--dataset',
      '--snapshot-prefix',
      '--version',
      '--help',
    ]);
  });
});

describe('expandCommandLine', () => {
  it('uses program options before the subcommand and both after it', () => {
    const program = z3Program();
    expect(
      expandCommandLine(program, ['--s3', 'p', 'backup', '--dry', '--snap', 's', '--comp=pigz4']),
    ).toEqual([
      '--s3-prefix',
      'p',
      'backup',
      '--dry-run',
      '--snapshot-prefix',
      's',
      '--compressor=pigz4',
    ]);
  });

  it('skips option values when looking for the subcommand', () => {
    const program = z3Program();
    expect(expandCommandLine(program, ['--data', 'backup', 'status'])).toEqual([
      '--dataset',
      'backup',
      'status',
    ]);
  });

  it('leaves subcommand options before the subcommand for commander to reject', () => {
    expect(expandCommandLine(z3Program(), ['--dry', 'backup'])).toEqual(['--dry', 'backup']);
  });
});

describe('parseCommandLine', () => {
  it('runs the action with expanded options, global options after the subcommand', async () => {
    const seen: { command?: string; opts?: Record<string, unknown>; args?: string[] } = {};
    const program = z3Program(seen);
    expect(await parseCommandLine(program, ['restore', 'snap-1', '--for', '--s3-prefix=x/'])).toBe(
      false,
    );
    expect(seen).toEqual({
      command: 'restore',
      args: ['snap-1'],
      opts: { force: true, s3Prefix: 'x/' },
    });
  });

  it(
    'turns unknown options into UsageError with commander suggestion as hint',
    { tags: ['faults'] },
    async () => {
      const err = await usageErrorAsync(() =>
        parseCommandLine(z3Program(), ['backup', '--ful', '--compresor', 'x']),
      );
      expect(err.message).toBe("unknown option '--compresor'");
      expect(err.hint).toBe('Did you mean --compressor?');
      expect(err.exitCode).toBe(2);
      injected('bad input');
    },
  );

  it('reports a missing subcommand instead of exiting 0', { tags: ['faults'] }, async () => {
    const program = z3Program();
    program.configureOutput({ writeErr: () => undefined });
    const err = await usageErrorAsync(() => parseCommandLine(program, []));
    expect(err.message).toBe('missing command: expected one of backup, restore, status');
    expect(err.exitCode).toBe(2);
    injected('bad input');
  });

  it('reports missing and excess arguments with a --help hint', { tags: ['faults'] }, async () => {
    const missing = await usageErrorAsync(() => parseCommandLine(z3Program(), ['restore']));
    expect(missing.message).toBe("missing required argument 'snapshot'");
    expect(missing.hint).toBe('run "z3 restore --help" for usage');
    const excess = await usageErrorAsync(() => parseCommandLine(z3Program(), ['status', 'extra']));
    expect(excess.message).toMatch(/^too many arguments for 'status'/);
    injected('bad input', 2);
  });

  it('reports ambiguous prefixes before commander runs', { tags: ['faults'] }, async () => {
    const err = await usageErrorAsync(() => parseCommandLine(z3Program(), ['--s', 'x', 'status']));
    expect(err.message).toBe('ambiguous option: --s could match --s3-prefix, --snapshot-prefix');
    injected('bad input');
  });

  it('returns true after help or version output', async () => {
    const out: string[] = [];
    const program = z3Program();
    program.configureOutput({ writeOut: (s) => out.push(s) });
    expect(await parseCommandLine(program, ['--vers'])).toBe(true);
    expect(out.join('')).toBe('0.3.0\n');
    const helped = z3Program();
    // subcommands copy their output settings when created, so set them on each
    for (const c of [helped, ...helped.commands])
      c.configureOutput({ writeOut: (s) => out.push(s) });
    configureCommanderErrors(helped);
    expect(await parseCommandLine(helped, ['backup', '--he'])).toBe(true);
    expect(out.join('')).toContain('Usage: z3 backup');
  });

  it(
    'reports invalid option arguments from wholeNumberArg and sizeArg',
    { tags: ['faults'] },
    async () => {
      const run = (argv: string[]): Promise<boolean> => {
        const program = new Command('pput')
          .option('--file-descriptor <n>', 'fd', wholeNumberArg(0, 1000))
          .option('--estimated <size>', 'size', sizeArg())
          .action(() => undefined);
        return parseCommandLine(program, argv);
      };
      expect((await usageErrorAsync(() => run(['--file', 'x']))).message).toBe(
        "option '--file-descriptor <n>' argument 'x' is invalid. expected a whole number from 0 to 1000",
      );
      expect((await usageErrorAsync(() => run(['--est', '5Q']))).message).toBe(
        "option '--estimated <size>' argument '5Q' is invalid. expected a size like 256M",
      );
      expect(await run(['--file-d', '3', '--estimated=1.5G'])).toBe(false);
      injected('bad input', 2);
    },
  );
});

describe('option parsers', () => {
  it('wholeNumberArg accepts the range only', { tags: ['faults'] }, () => {
    const parse = wholeNumberArg(1, 10);
    expect(parse(' 7 ')).toBe(7);
    for (const bad of ['0', '11', '1.5', '', 'x', '-1'])
      expect(() => parse(bad)).toThrow(/whole number from 1 to 10/);
    injected('bad input', 6);
  });

  it('sizeArg returns bytes', () => {
    expect(sizeArg()('5M')).toBe(5 * 1024 * 1024);
  });
});
