#!/usr/bin/env node
import { runMain } from '../cli/run-main.js';
import { runSshSync } from '../commands/ssh-sync.js';

await runMain('z3_ssh_sync', runSshSync);
