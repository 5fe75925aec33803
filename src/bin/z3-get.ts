#!/usr/bin/env node
import { runMain } from '../cli/run-main.js';
import { runZ3Get } from '../commands/z3-get.js';

await runMain('z3_get', runZ3Get);
