#!/usr/bin/env node
import { runMain } from '../cli/run-main.js';
import { runZ3 } from '../cli/z3-program.js';

await runMain('z3', runZ3);
