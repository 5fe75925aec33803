#!/usr/bin/env node
import { runMain } from '../cli/run-main.js';
import { runSshSync } from '../cli/ssh-sync-program.js';

await runMain('z3_ssh_sync', runSshSync);
