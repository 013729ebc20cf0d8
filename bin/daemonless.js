#!/usr/bin/env node
// Launcher of the `daemonless` command: runs the TypeScript entry point through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/main.ts');
