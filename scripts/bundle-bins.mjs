#!/usr/bin/env node
// The first half of `npm run build`: each command (src/bin/*.ts) bundled with everything it
// imports, the AWS SDK included, into one file, dist/bin/<name>.js (the package's `bin`).
//
// Why: a command built as ~190 ES modules plus the SDK's CommonJS files spent about 0.26 CPU-s
// before doing anything (`z3 --help`: 0.43 CPU-s against 0.17 bundled, on the project's test
// machine): resolving, reading and compiling each module, and scanning each CommonJS file for
// its exports. That is paid by every run from cron, and by every 1 GiB backup in
// `bench:transfer` as about 8 % of its CPU. `tsc` (the second half) still typechecks everything
// and writes the other modules to dist/, which the benchmarks and scripts import. This half runs
// first because it does not typecheck: with a type error the commands are still rebuilt (as
// `tsc` still writes its modules), and the build still fails.
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'src/bin');

const OUT = join(ROOT, 'dist/bin');
rmSync(OUT, { recursive: true, force: true });

await build({
  entryPoints: readdirSync(BIN)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join(BIN, name)),
  outdir: OUT,
  bundle: true,
  // What a command imports dynamically goes into a chunk of its own, loaded when imported:
  // pput sets its V8 flags before the rest is parsed (src/cli/lean-v8.ts).
  splitting: true,
  // Smaller files parse faster and keep less in memory (3 MiB of pput's RSS); identifiers are
  // not renamed, and keepNames keeps every class's name where esbuild would rename one that
  // collides with another module's: z3's errors take their `name` from their class.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // The SDK's CommonJS parts call require() for Node's modules, which an ES module lacks.
  banner: {
    js: "import { createRequire as z3CreateRequire } from 'node:module';\nconst require = z3CreateRequire(import.meta.url);",
  },
});
