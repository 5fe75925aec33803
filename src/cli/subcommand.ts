import type { Command } from 'commander';
import type { GlobalFlags } from '../commands/context.js';
import type { MainContext } from './run-main.js';

/** What a module that adds one `z3` subcommand is given (prune-command.ts, verify-command.ts). */
export interface SubcommandInput {
  program: Command;
  ctx: MainContext;
  /** Records the command's exit code. */
  setExit: (code: number) => void;
  /** Reads the options every subcommand shares. */
  globalFlags: (cmd: Command) => GlobalFlags;
}
