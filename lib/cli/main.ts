/**
 * Entry point of the `daemonless` command (`npm run cli -- ...`, `bin/daemonless.js`).
 * Wires the real process into `runCli`; everything else lives in the pure modules.
 */
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { runCli } from './cli.js';
import { readLiveSnapshot } from './live-snapshot.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readFile: (path) => readFile(path, 'utf8'),
  readStdin: () => text(process.stdin),
  stdoutIsTty: process.stdout.isTTY === true,
  now: () => new Date(),
  readLiveSnapshot,
});
