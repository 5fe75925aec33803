/**
 * The `--json` events of one `z3 backup`, `restore`, `prune`, `verify` or `cleanup` run (src/ui/events.ts):
 * `start` once the dataset and target are known, `error` and `summary` at the end, counting the
 * `object`, `object-deleted` and `verified` events in between for the summary. Without `--json` every call does nothing.
 */
import { exitCodeOf, reportedError, Z3Error } from '../errors.js';
import { jsonEventSink, NO_EVENTS, type EventSink, type RunEvent } from '../ui/events.js';
import type { CommandPorts } from './ports.js';

/**
 * The events the summary counts: objects stored, deleted or verified; uploads aborted; orphaned
 * segment objects removed (a `segments-removed` event counts its `objects`, the others one).
 */
const COUNTED = new Set<RunEvent['event']>([
  'object',
  'object-deleted',
  'verified',
  'upload-aborted',
  'segments-removed',
]);

/** The events of one run. */
export interface RunEvents extends EventSink {
  /** The `summary` of a run that returned `code`. */
  finish(code: number): void;
  /** The `error` and `summary` of a run that threw `err` (aborted by `signal`?). */
  fail(err: unknown, signal: AbortSignal): void;
}

export function startRunEvents(
  isJson: boolean,
  ports: Pick<CommandPorts, 'stdout' | 'now'>,
): RunEvents {
  const sink = isJson ? jsonEventSink(ports.stdout, ports.now) : NO_EVENTS;
  const startedAt = ports.now();
  let objects = 0;
  let bytes = 0;
  const summary = (code: number): void => {
    const seconds = (ports.now() - startedAt) / 1000;
    sink.emit({ event: 'summary', code, objects, bytes, seconds });
  };
  return {
    emit: (event: RunEvent) => {
      if (COUNTED.has(event.event) && 'bytes' in event) {
        objects += 'objects' in event ? event.objects : 1;
        bytes += event.bytes;
      }
      sink.emit(event);
    },
    finish: summary,
    fail: (err, signal) => {
      const known = reportedError(err, signal);
      const code = exitCodeOf(err, signal);
      const message =
        known instanceof Z3Error
          ? known.message
          : `internal error: ${firstLine(known instanceof Error ? known.message : String(known))}`;
      sink.emit({ event: 'error', code, message });
      summary(code);
    },
  };
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? '';
}

/**
 * Run `body` with the events of `command`'s run: its `summary` when it returns an exit code, its
 * `error` and `summary` when it throws (rethrown: the caller reports it as usual).
 */
export async function withRunEvents(
  isJson: boolean,
  ports: Pick<CommandPorts, 'stdout' | 'now' | 'signal'>,
  body: (events: RunEvents) => Promise<number>,
): Promise<number> {
  const events = startRunEvents(isJson, ports);
  try {
    const code = await body(events);
    events.finish(code);
    return code;
  } catch (err) {
    events.fail(err, ports.signal);
    throw err;
  }
}
