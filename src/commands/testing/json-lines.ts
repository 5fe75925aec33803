/** The JSON Lines a `--json` run wrote on stdout, one object per line. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The events named `name` among `events`. */
export function eventsNamed(
  events: Record<string, unknown>[],
  name: string,
): Record<string, unknown>[] {
  return events.filter((e) => e['event'] === name);
}
