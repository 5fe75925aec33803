#!/usr/bin/env node
import { runMain } from '../cli/run-main.js';
import { runZ3Get } from '../cli/z3-get-program.js';

await runMain('z3_get', runZ3Get);
