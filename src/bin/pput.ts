#!/usr/bin/env node
import { runMain } from '../cli/run-main.js';
import { runPput } from '../commands/pput.js';

await runMain('pput', runPput);
