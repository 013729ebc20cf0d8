/**
 * Entry point of the `daemonless` command (`npm run cli -- ...`, `bin/daemonless.js`).
 * Wires the real process into `runCli`; everything else lives in the pure modules.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import { runCli, type SnapshotFile } from './cli.js';

/** A regular file is read by position, piece by piece (a large snapshot is never all in memory); anything else whole. */
function openFile(path: string): Uint8Array | SnapshotFile {
  const fd = openSync(path, 'r');
  let size = -1;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return readFileSync(fd);
    size = stat.size;
  } finally {
    if (size < 0) closeSync(fd);
  }
  return {
    length: size,
    readInto(into, position) {
      for (let done = 0; done < into.length;) {
        const n = readSync(fd, into, done, into.length - done, position + done);
        if (n === 0) throw new Error('the file got shorter while it was read');
        done += n;
      }
    },
    close: () => closeSync(fd),
  };
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readFile: (path) => Promise.resolve().then(() => openFile(path)),
  readStdin: () => buffer(process.stdin),
  stdoutIsTty: process.stdout.isTTY === true,
  now: () => new Date(),
  // The Kubernetes client is loaded only when a live cluster is read: `plan --file` stays small.
  readLiveSnapshot: async (path) => (await import('./live-snapshot.js')).readLiveSnapshot(path),
});
