import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveSnapshotNotSupported, runCli, type CliIo, type SnapshotFile } from '../../../lib/cli/cli.js';
import {
  ALIAS_BOMB_YAML, BOTH_BUDGETS_YAML, convergedSnapshot, EMPTY_SELECTOR_YAML, LABELS_STRING_YAML, NO_METADATA_YAML, NODE_WITHOUT_NAME_YAML, NOT_YAML,
  REVISION_NOT_JSON_YAML, TAINTS_NOT_A_LIST_YAML, VALID_YAML,
} from './fixtures.js';

function fakeIo(files: Record<string, string | Uint8Array>, stdin: string | Uint8Array = '', tty = false): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      readFile: (p) => (p in files ? Promise.resolve(files[p] as string | Uint8Array) : Promise.reject(new Error(`ENOENT: no such file '${p}'`))),
      readStdin: () => Promise.resolve(stdin),
      stdoutIsTty: tty,
      now: () => new Date('2024-05-01T00:00:00Z'),
      readLiveSnapshot: liveSnapshotNotSupported,
    },
  };
}

describe('runCli() in-process', () => {
  it('prints JSON when stdout is not a terminal and a table on a terminal', async () => {
    const json = fakeIo({ 's.yaml': VALID_YAML });
    expect(await runCli(['plan', '--file', 's.yaml'], json.io)).toBe(0);
    expect(JSON.parse(json.out.join('')).daemonSets[0].name).toBe('nginx-ds');
    expect(json.err).toEqual([]);
    const tty = fakeIo({ 's.yaml': VALID_YAML }, '', true);
    expect(await runCli(['plan', '--file', 's.yaml'], tty.io)).toBe(0);
    expect(tty.out.join('')).toContain('DaemonSet default/nginx-ds');
  });

  it('reads standard input with --file -', async () => {
    const r = fakeIo({}, VALID_YAML);
    expect(await runCli(['plan', '--file', '-', '--output', 'json', '--now', '2024-05-01T00:00:00Z'], r.io)).toBe(0);
    expect(JSON.parse(r.out.join('')).daemonSets).toHaveLength(1);
  });

  it('reads a file given piecewise (by position) and closes it, also when a read fails', async () => {
    const bytes = Buffer.from(VALID_YAML);
    const opened = (failAt: number): SnapshotFile & { closed: boolean } => ({
      length: bytes.length,
      closed: false,
      readInto(into, position) {
        if (position + into.length > failAt) throw new Error('EIO: i/o error, read\nsecond line');
        into.set(bytes.subarray(position, position + into.length));
      },
      close() {
        this.closed = true;
      },
    });
    const whole = fakeIo({ 's.yaml': VALID_YAML });
    expect(await runCli(['plan', '--file', 's.yaml'], whole.io)).toBe(0);
    const good = opened(Infinity);
    const r = fakeIo({});
    expect(await runCli(['plan', '--file', 's.yaml'], { ...r.io, readFile: () => Promise.resolve(good) })).toBe(0);
    expect(r.out).toEqual(whole.out);
    expect(good.closed).toBe(true);
    const bad = opened(bytes.length - 1);
    const f = fakeIo({});
    expect(await runCli(['plan', '--file', 's.yaml'], { ...f.io, readFile: () => Promise.resolve(bad) })).toBe(2);
    expect([f.out, f.err]).toEqual([[], ['daemonless: s.yaml: cannot read: EIO: i/o error, read\n']]);
    expect(bad.closed).toBe(true);
  });

  it.each([
    ['unreadable file', ['plan', '--file', 'missing.yaml'], /^daemonless: missing\.yaml: cannot read: /],
    ['no source', ['plan'], /^daemonless: plan: give exactly one of --file or --kubeconfig$/],
    ['bad --now', ['plan', '--file', 's.yaml', '--now', 'soon'], /^daemonless: --now: /],
    ['bad --output', ['plan', '--file', 's.yaml', '--output', 'xml'], /^daemonless: --output: /],
    ['unknown option', ['plan', '--file', 's.yaml', '--bogus'], /^daemonless: unknown option '--bogus'$/],
    ['live mode', ['plan', '--kubeconfig', '/tmp/kc'], /^daemonless: --kubeconfig: reading a live cluster is not supported yet$/],
  ])('%s → exit 2, one line on stderr, nothing on stdout', async (_name, argv, message) => {
    const r = fakeIo({ 's.yaml': VALID_YAML });
    expect(await runCli(argv, r.io)).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]?.trimEnd()).toMatch(message);
    expect(r.err[0]?.trimEnd()).not.toContain('\n');
  });

  it.each([
    ['a YAML alias bomb', ALIAS_BOMB_YAML, /^daemonless: s: document: more than 100 YAML alias expansions/],
    ['a Node without a name', NODE_WITHOUT_NAME_YAML, /^daemonless: s: document\.items\[0\] \(Node\) has no metadata\.name$/],
    ['labels: "str"', LABELS_STRING_YAML, /^daemonless: Pod default\/p: metadata\.labels: must be a map of strings$/],
    ['taints: "notalist"', TAINTS_NOT_A_LIST_YAML, /^daemonless: Node n1: spec\.taints: must be a list$/],
    ['an empty file', '', /^daemonless: s: empty: /],
    ['revision data {not json', REVISION_NOT_JSON_YAML, /^daemonless: ControllerRevision default\/r1: data: must be a JSON object/],
    ['binary bytes', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x1b, 0x5b, 0x32, 0x4a]), /^daemonless: s: not text \(it holds NUL bytes\): want YAML or JSON$/],
  ])('%s → exit 2, one line naming the object and the problem', async (_name, content, message) => {
    for (const flags of [[], ['--exit-code']]) {
      const r = fakeIo({ s: content });
      expect(await runCli(['plan', '--file', 's', ...flags], r.io)).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]?.trimEnd()).toMatch(message);
      expect(r.err[0]?.trimEnd()).not.toContain('\n');
      expect(r.err[0]).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    }
  });

  it('exits like kubectl diff with --exit-code: 0 nothing to do, 1 changes; always 0 without it', async () => {
    const run = async (text: string, flags: string[]) => runCli(['plan', '--file', 's', '--output', 'json', ...flags], fakeIo({ s: text }).io);
    expect(await run(VALID_YAML, ['--exit-code'])).toBe(1);
    expect(await run(convergedSnapshot(), ['--exit-code'])).toBe(0);
    expect(await run(VALID_YAML, [])).toBe(0);
    const table = fakeIo({ s: VALID_YAML });
    expect(await runCli(['plan', '--file', 's', '--output', 'table', '--exit-code'], table.io)).toBe(1);
    expect(table.out.join('')).toContain('DaemonSet default/nginx-ds');
  });

  it('passes the kubeconfig path to the injected live reader', async () => {
    const r = fakeIo({});
    let seen = '';
    const io = { ...r.io, readLiveSnapshot: (p: string) => ((seen = p), Promise.resolve({ daemonSets: [], nodes: [], pods: [], revisions: [] })) };
    expect(await runCli(['plan', '--kubeconfig', '/kc', '--output', 'json'], io)).toBe(0);
    expect(seen).toBe('/kc');
    expect(JSON.parse(r.out.join(''))).toEqual({ daemonSets: [] });
  });
});

describe('daemonless plan as a real process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daemonless-cli-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const writeBytes = (name: string, bytes: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const run = (args: string[], input?: string) =>
    spawnSync('node_modules/.bin/tsx', ['lib/cli/main.ts', 'plan', ...args], { encoding: 'utf8', input, timeout: 60_000 });

  it('plans a valid snapshot: exit 0, JSON on stdout, nothing on stderr', () => {
    const r = run(['--file', write('ok.yaml', VALID_YAML), '--now', '2024-05-01T00:00:00Z']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { daemonSets: { create: { node: string }[] }[] };
    expect(out.daemonSets[0]?.create.map((c) => c.node)).toEqual(['node-1', 'node-2']);
  });

  it.each([
    ['unreadable file', () => run(['--file', join(dir, 'nope.yaml')]), /cannot read/],
    ['not YAML/JSON', () => run(['--file', '-'], NOT_YAML), /not valid YAML or JSON/],
    ['object without metadata', () => run(['--file', write('nometa.yaml', NO_METADATA_YAML)]), /has no metadata/],
    ['empty selector', () => run(['--file', write('empty.yaml', EMPTY_SELECTOR_YAML)]), /DaemonSet default\/bad: spec\.selector: empty selector/],
    ['both budgets', () => run(['--file', write('both.yaml', BOTH_BUDGETS_YAML)]), /DaemonSet default\/both: .*maxSurge/],
    ['a YAML alias bomb', () => run(['--file', write('bomb.yaml', ALIAS_BOMB_YAML)]), /more than 100 YAML alias expansions/],
    ['a binary file', () => run(['--file', writeBytes('bin.gz', Buffer.concat([Buffer.from('kind: List\n'.repeat(20000)), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff])]))]), /^daemonless: \S+bin\.gz: not text \(it holds NUL bytes\)/],
    ['a directory', () => { mkdirSync(join(dir, 'sub'), { recursive: true }); return run(['--file', join(dir, 'sub')]); }, /^daemonless: \S+sub: cannot read: EISDIR/],
    ['binary input on standard input', () => spawnSync('node_modules/.bin/tsx', ['lib/cli/main.ts', 'plan', '--file', '-'], { input: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x1b, 0x5b]), encoding: 'utf8', timeout: 60_000 }), /^daemonless: standard input: not text/],
  ])('%s → exit 2 with one line on stderr and nothing on stdout', (_name, go, message) => {
    const r = go();
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

describe('daemonless manifests', () => {
  it('prints the ClusterRole and CRD of CRD mode as YAML', async () => {
    const r = fakeIo({});
    expect(await runCli(['manifests', '--managed-resource', 'crd', '--no-webhook'], r.io)).toBe(0);
    const text = r.out.join('');
    expect(text).toContain('kind: CustomResourceDefinition');
    expect(text).toContain('name: daemonless-controller');
    expect(text).not.toContain('kind: ValidatingWebhookConfiguration');
  });

  it('adds the webhook configuration when given its URL', async () => {
    const r = fakeIo({});
    expect(await runCli(['manifests', '--managed-resource', 'native', '--webhook-url', 'https://example.com/hook/abcdefabcdefabcdef'], r.io)).toBe(0);
    expect(r.out.join('')).toContain('kind: ValidatingWebhookConfiguration');
  });

  it('does not leave the webhook out silently: without --webhook-url it asks for it or for --no-webhook', async () => {
    const r = fakeIo({});
    expect(await runCli(['manifests', '--managed-resource', 'native'], r.io)).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err.join('').trimEnd()).toBe('daemonless: manifests: give --webhook-url https://…/hook/<token> (the webhook function URL with its secret), or --no-webhook to leave the webhook configuration out');
    const both = fakeIo({});
    expect(await runCli(['manifests', '--managed-resource', 'native', '--no-webhook', '--webhook-url', 'https://example.com/hook/abcdefabcdefabcdef'], both.io)).toBe(2);
    const parts = fakeIo({});
    expect(await runCli(['manifests', '--managed-resource', 'crd', '--parts', 'crd,rbac'], parts.io)).toBe(0);
    expect(parts.out.join('')).not.toContain('kind: ValidatingWebhookConfiguration');
  });

  it('prints the whole message of an option error, on one line', async () => {
    const r = fakeIo({});
    expect(await runCli(['manifests', '--managed-resource', 'native', '--webhook-url', 'http://example.com/x', '--timeout-seconds', '99'], r.io)).toBe(2);
    expect(r.err).toHaveLength(1);
    const line = r.err[0]?.trimEnd() ?? '';
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^daemonless: Invalid webhook options: \S.*https.*; timeoutSeconds must be an integer from 1 to 30, got 99$/);
  });

  it('--help prints the usage of manifests and exits 0', async () => {
    const r = fakeIo({});
    expect(await runCli(['manifests', '--help'], r.io)).toBe(0);
    expect(r.out.join('')).toMatch(/Usage: daemonless manifests/);
    expect(r.out.join('')).toContain('--no-webhook');
    expect(r.err).toEqual([]);
  });

  it('refuses an unknown managed resource with exit status 2 and one line', async () => {
    const r = fakeIo({});
    expect(await runCli(['manifests', '--managed-resource', 'bogus'], r.io)).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err.join('').trim().split('\n')).toHaveLength(1);
  });
});
