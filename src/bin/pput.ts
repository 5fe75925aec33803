#!/usr/bin/env node
import { runMain } from '../cli/run-main.js';
import { runPput } from '../cli/pput-program.js';

await runMain('pput', runPput);
