/**
 * POSIX shell quoting, for the two places a command line is shown or sent as text: dry-run
 * lines (pasteable into sh/bash) and the remote command string of ssh. Nothing is ever spawned
 * through a local shell.
 */

/** Characters that never need quotes in sh. */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one word: unchanged when safe, else single quotes with `'` written as `'\''`. */
export function quoteArg(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Quote an argv into one command line. */
export function quoteCommand(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

/** Join several argvs into one pipeline line: `a | b | c`. */
export function quotePipeline(stages: readonly (readonly string[])[]): string {
  return stages.map(quoteCommand).join(' | ');
}
