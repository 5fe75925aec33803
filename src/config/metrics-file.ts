/**
 * METRICS_FILE (`backup --metrics-file`): where `z3 backup` writes its Prometheus metrics for
 * node_exporter's textfile collector (src/metrics/file.ts says how several datasets share it).
 * Unset or empty: no metrics.
 */
import { posix } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * The absolute path ending in `.prom` (the collector reads only `*.prom` files), or undefined.
 * @throws ConfigError `<where> METRICS_FILE: expected …`.
 */
export function parseMetricsFile(
  raw: { value: string; where: string } | undefined,
): string | undefined {
  const text = raw?.value.trim() ?? '';
  if (raw === undefined || text === '') return undefined;
  if (!posix.isAbsolute(text) || !text.endsWith('.prom') || text.endsWith('/.prom')) {
    throw new ConfigError(
      `${raw.where} METRICS_FILE: expected an absolute path ending in .prom, in node_exporter's ` +
        '--collector.textfile.directory',
    );
  }
  return text;
}
