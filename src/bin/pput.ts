#!/usr/bin/env node
// First, before the SDK is parsed: V8 settings for a memory-budgeted run (lean-v8.ts).
import '../cli/lean-v8.js';

// Imported dynamically so that those settings apply before their modules are parsed.
const { runMain } = await import('../cli/run-main.js');
const { runPput } = await import('../cli/pput-program.js');

await runMain('pput', runPput);
