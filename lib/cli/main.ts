/**
 * Entry point of the `daemonless` command (`npm run cli -- ...`, `bin/daemonless.js`).
 * Wires the real process into `runCli`; everything else lives in the pure modules.
 */
import { readFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readFile: (path) => readFile(path),
  readStdin: () => buffer(process.stdin),
  stdoutIsTty: process.stdout.isTTY === true,
  now: () => new Date(),
  // The Kubernetes client is loaded only when a live cluster is read: `plan --file` stays small.
  readLiveSnapshot: async (path) => (await import('./live-snapshot.js')).readLiveSnapshot(path),
});
