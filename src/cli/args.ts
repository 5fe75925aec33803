import { CommanderError, InvalidArgumentError, type Command, type Option } from 'commander';
import { parseSize } from '../config/sizes.js';
import { UsageError } from '../errors.js';

/**
 * Expand unambiguous long-option prefixes as Python's argparse did (`--dry` → `--dry-run`,
 * `--meta=a=b` → `--metadata=a=b`): existing scripts rely on them and commander has no such
 * mode. An exact option is kept; an unknown one is left for commander to report. Everything
 * after `--` is data.
 *
 * @throws UsageError `ambiguous option: --d could match --dry-run, --dataset`
 */
export function expandLongOptionPrefixes(
  argv: readonly string[],
  knownLongOptions: readonly string[],
): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const token = argv[i] ?? '';
    if (token === '--') return out.concat(argv.slice(i));
    out.push(expandToken(token, knownLongOptions));
  }
  return out;
}

function expandToken(token: string, known: readonly string[]): string {
  if (!token.startsWith('--') || token === '--') return token;
  const eq = token.indexOf('=');
  const name = eq === -1 ? token : token.slice(0, eq);
  if (known.includes(name)) return token;
  const matches = known.filter((option) => option.startsWith(name));
  if (matches.length > 1) {
    throw new UsageError(`ambiguous option: ${name} could match ${matches.join(', ')}`);
  }
  const [only] = matches;
  if (only === undefined) return token;
  return eq === -1 ? only : `${only}${token.slice(eq)}`;
}

/**
 * The long options valid for `command`: its own, its ancestors' (global options, which commander
 * accepts before or after the subcommand name), and `--help`.
 */
export function knownOptionsOf(command: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) {
    for (const option of c.options) if (option.long !== undefined) names.push(option.long);
  }
  if (!names.includes('--help')) names.push('--help');
  return names;
}

/**
 * `expandLongOptionPrefixes` for a program with subcommands: before the subcommand name only the
 * program's options count, after it the subcommand's and the program's. Option values are
 * skipped, so `z3 --dataset backup status` still finds `status`.
 */
export function expandCommandLine(program: Command, argv: readonly string[]): string[] {
  const out: string[] = [];
  let current = program;
  for (let i = 0; i < argv.length; i += 1) {
    const token = argv[i] ?? '';
    if (token === '--') return out.concat(argv.slice(i));
    if (token.startsWith('-') && token !== '-') {
      const expanded = expandToken(token, knownOptionsOf(current));
      out.push(expanded);
      const next = argv[i + 1];
      if (next !== undefined && takesNextToken(current, expanded, next)) {
        out.push(next);
        i += 1;
      }
      continue;
    }
    if (current === program) {
      const sub = program.commands.find((c) => c.name() === token || c.aliases().includes(token));
      if (sub !== undefined) current = sub;
    }
    out.push(token);
  }
  return out;
}

function takesNextToken(command: Command, token: string, next: string): boolean {
  if (token.includes('=')) return false;
  const isLong = token.startsWith('--');
  if (!isLong && token.length !== 2) return false; // -s5M carries its value
  const option = findOption(command, (o) => (isLong ? o.long : o.short) === token);
  if (option === undefined) return false;
  return option.required || (option.optional && !next.startsWith('-'));
}

function findOption(command: Command, test: (o: Option) => boolean): Option | undefined {
  for (let c: Command | null = command; c !== null; c = c.parent) {
    const found = c.options.find(test);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Make commander's usage errors z3 errors: instead of printing `error: …` and exiting 1, it
 * throws a UsageError (exit 2, printed once as `<program>: …` by runMain), with commander's
 * "Did you mean" suggestion as the hint. Help and version output still go to stdout; they throw
 * a CommanderError with exit code 0, which `parseCommandLine` turns into a clean return.
 * Applies to `cmd` and the subcommands it has now: call it after adding them.
 */
export function configureCommanderErrors(cmd: Command): Command {
  cmd.configureOutput({ outputError: () => undefined });
  cmd.exitOverride((err) => {
    throw toUsageError(cmd, err);
  });
  for (const sub of cmd.commands) configureCommanderErrors(sub);
  return cmd;
}

function toUsageError(cmd: Command, err: CommanderError): Error {
  if (err.exitCode === 0) return err;
  if (err.code === 'commander.help') {
    const names = cmd.commands.map((c) => c.name()).filter((n) => n !== 'help');
    const what =
      names.length > 0 ? `missing command: expected one of ${names.join(', ')}` : 'invalid usage';
    return new UsageError(what, { hint: `run "${commandPath(cmd)} --help" for usage` });
  }
  const [first = '', ...rest] = err.message.split('\n');
  const suggestion = rest
    .join(' ')
    .trim()
    .replace(/^\((.*)\)$/, '$1');
  return new UsageError(first.replace(/^error: /, ''), {
    hint: suggestion !== '' ? suggestion : `run "${commandPath(cmd)} --help" for usage`,
    cause: err,
  });
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Parse user arguments (no node/script entries) with prefix expansion and z3 error handling,
 * running the matched action. Resolves `true` when commander handled the command line itself
 * (help or version shown: the caller exits 0), `false` after the action ran.
 *
 * @throws UsageError for bad arguments; whatever the action throws.
 */
export async function parseCommandLine(
  program: Command,
  argv: readonly string[],
): Promise<boolean> {
  configureCommanderErrors(program);
  const expanded = expandCommandLine(program, argv);
  try {
    await program.parseAsync(expanded, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return true;
    throw err;
  }
  return false;
}

/** A commander argParser for a whole number in [min, max] (options that are not settings). */
export function wholeNumberArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!(n >= min && n <= max)) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A commander argParser for a size like `256M` (see `parseSize`), in bytes. */
export function sizeArg(): (value: string) => number {
  return (value) => {
    try {
      return parseSize(value);
    } catch {
      throw new InvalidArgumentError('expected a size like 256M');
    }
  };
}

/**
 * Read the string-valued options commander parsed: `str('chunkSize')` is the flag's value, or
 * undefined when the flag was absent (or is a boolean switch).
 */
export function stringOptions(opts: Record<string, unknown>): (key: string) => string | undefined {
  return (key) => {
    const value = opts[key];
    return typeof value === 'string' ? value : undefined;
  };
}
