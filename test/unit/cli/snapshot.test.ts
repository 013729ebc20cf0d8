import { describe, expect, it } from 'vitest';
import { parseNow, planOptionsOf, planSnapshotText } from '../../../lib/cli/plan-command.js';
import { hasChanges, renderJson, renderTable } from '../../../lib/cli/render.js';
import { parseSnapshot, SnapshotError, snapshotsOf, type ByteSource } from '../../../lib/cli/snapshot.js';
import { stringify } from 'yaml';
import {
  ALIAS_BOMB_YAML, BOTH_BUDGETS_YAML, convergedSnapshot, ORPHAN_POD, DELETING_DS_JSON, EMPTY_SELECTOR_YAML, LABELS_STRING_YAML, NO_METADATA_YAML, NODE_JSON, NODE_WITHOUT_NAME_YAML, NOT_YAML,
  REVISION_NOT_JSON_YAML, TAINTS_NOT_A_LIST_YAML, VALID_YAML,
} from './fixtures.js';

const NOW = new Date('2024-05-01T00:00:00Z');

function errorOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('parseSnapshot()', () => {
  it('reads a v1 List, keeps the four kinds and drops the others', () => {
    const objects = parseSnapshot(VALID_YAML, 'snap.yaml');
    expect([objects.daemonSets.length, objects.nodes.length, objects.pods.length, objects.revisions.length]).toEqual([1, 3, 1, 0]);
  });

  it('reads a multi-document stream of JSON documents and defaults the namespace', () => {
    const objects = parseSnapshot(`${DELETING_DS_JSON}\n---\n${NODE_JSON}\n---\n{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}\n`, 's');
    expect(objects.daemonSets.map((d) => d.metadata?.name)).toEqual(['gone']);
    expect(objects.pods[0]?.metadata?.namespace).toBe('default');
  });

  it.each([
    ['not YAML/JSON', NOT_YAML, /^in: not valid YAML or JSON: /],
    ['object without metadata', NO_METADATA_YAML, /^in: document \(Node\) has no metadata$/],
    ['object without kind', 'metadata: {name: x}\n', /^in: document has no kind$/],
    ['empty selector', EMPTY_SELECTOR_YAML, /^DaemonSet default\/bad: spec\.selector: empty selector is invalid for daemonset$/],
    ['both budgets non-zero', BOTH_BUDGETS_YAML, /^DaemonSet default\/both: spec\.updateStrategy\.rollingUpdate\.maxSurge: may not be set when maxUnavailable is non-zero$/],
  ])('rejects %s with one line naming the object', (_name, text, message) => {
    let error: unknown;
    try {
      parseSnapshot(text, 'in');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it.each([
    ['a YAML alias bomb', ALIAS_BOMB_YAML, /^in: document: more than 100 YAML alias expansions \(refused as a resource-exhaustion attack\)$/],
    ['a YAML alias bomb inside one List item', ALIAS_BOMB_YAML.replace(/^metadata:\n((?: {2}a\d.*\n)+)items:\n- (.*)$/m, (_m, anchors: string, item: string) => `items:\n- ${item.replace('bomb: *a8', `bomb: {${anchors.trim().split('\n').map((l) => l.trim()).join(', ')}}`)}`),
      /^in: document\.items\[0\]: more than 100 YAML alias expansions/],
    ['a Node without metadata.name', NODE_WITHOUT_NAME_YAML, /^in: document\.items\[0\] \(Node\) has no metadata\.name$/],
    ['labels that are a string', LABELS_STRING_YAML, /^Pod default\/p: metadata\.labels: must be a map of strings$/],
    ['taints that are not a list', TAINTS_NOT_A_LIST_YAML, /^Node n1: spec\.taints: must be a list$/],
    ['revision data that is not JSON', REVISION_NOT_JSON_YAML, /^ControllerRevision default\/r1: data: must be a JSON object \(or JSON text of one\)$/],
    ['an empty file', '', /^in: empty: no YAML or JSON document in it$/],
    ['a file of comments and markers only', '# nothing\n---\n...\n', /^in: empty: /],
    ['a Pod with a number for a name', 'apiVersion: v1\nkind: Pod\nmetadata: {name: 7}\n', /^in: document \(Pod\) has no metadata\.name$/],
    ['a DaemonSet status counter that is a string', 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nstatus: {numberReady: "3"}\n', /^DaemonSet default\/d: status\.numberReady: must be a number$/],
  ])('rejects %s with one line naming the object and the problem', (_name, text, message) => {
    const error = errorOf(() => parseSnapshot(text, 'in'));
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it.each([
    ['NUL bytes', Buffer.from('apiVersion: v1\nkind: List\u0000\u0001\u0002items: []\n'), /^in: not text \(it holds NUL bytes\): want YAML or JSON$/],
    ['invalid UTF-8', Buffer.from([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xff, 0xfe, 0x1b, 0x5b, 0x33, 0x31, 0x6d]), /^in: not text \(not valid UTF-8\): want YAML or JSON$/],
    ['a gzip file', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), /^in: not text \(it holds NUL bytes\)/],
  ])('says that binary input (%s) is not text, without echoing it', (_name, bytes, message) => {
    const error = errorOf(() => parseSnapshot(bytes, 'in'));
    expect((error as Error).message).toMatch(message);
  });

  it('escapes control characters of the input in its messages', () => {
    const error = errorOf(() => parseSnapshot('apiVersion: v1\nkind: Node\nmetadata: {name: "evil\\e[31m\\u0007"}\nspec: {taints: 1}\n', 'in'));
    expect((error as Error).message).toBe('Node evil\\u001b[31m\\u0007: spec.taints: must be a list');
  });

  it('reads a List item by item exactly as the whole document reads (kubectl -o yaml and -o json layouts)', () => {
    const items = [
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { a: 'b' } }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'x', annotations: { note: 'line one\nline two\n- not an item\nitems:\n' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i', args: ['- a', 'items:'] }] } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { script: '#!/bin/sh\n- x\n' } },
    ];
    const list = { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
    const expected = parseSnapshot(JSON.stringify(list), 'json');
    const block = stringify(list, { lineWidth: 0, indentSeq: false });
    const indented = stringify(list, { lineWidth: 0, indentSeq: true });
    expect(block).toMatch(/^items:\n- /m);
    expect(indented).toMatch(/^items:\n {2}- /m);
    for (const text of [block, indented, `${block}---\n${stringify(items[0])}`, `# comment\n${block.replace(/^kind: List/m, '# between\nkind: List')}`]) {
      const got = parseSnapshot(text, 'yaml');
      expect({ ...got, nodes: got.nodes.slice(0, 1) }).toEqual(expected);
    }
  });

  it('reads anchors shared between List items (the whole document is parsed then)', () => {
    const objects = parseSnapshot('kind: List\nitems:\n- &n {apiVersion: v1, kind: Node, metadata: {name: n1, labels: &l {a: b}}}\n- {apiVersion: v1, kind: Node, metadata: {name: n2, labels: *l}}\n', 's');
    expect(objects.nodes.map((n) => [n.metadata?.name, n.metadata?.labels])).toEqual([['n1', { a: 'b' }], ['n2', { a: 'b' }]]);
  });

  it('drops managedFields and node images, which no plan reads', () => {
    const objects = parseSnapshot(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', managedFields: [{ manager: 'kubelet' }] }, status: { images: [{ names: ['x'] }], conditions: [] } }), 's');
    expect(objects.nodes[0]).toEqual({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { conditions: [] } });
  });

  it('builds one snapshot per DaemonSet sorted by namespace then name', () => {
    const objects = parseSnapshot(`${VALID_YAML}---\n${DELETING_DS_JSON}\n`, 's');
    expect(snapshotsOf(objects).map((s) => `${s.daemonSet.metadata?.namespace}/${s.daemonSet.metadata?.name}`)).toEqual(['default/nginx-ds', 'kube-system/gone']);
    expect(snapshotsOf(objects).every((s) => s.complete)).toBe(true);
  });
});

/** A byte source over `bytes` that remembers the largest read (a whole-text parse reads everything at once). */
function sourceOf(bytes: Uint8Array): ByteSource & { largestRead: number } {
  return {
    length: bytes.length,
    largestRead: 0,
    readInto(into, position) {
      this.largestRead = Math.max(this.largestRead, into.length);
      into.set(bytes.subarray(position, position + into.length));
    },
  };
}

describe('parseSnapshot() reading YAML piecewise', () => {
  // Large enough that lines, items and characters cross the reader's 64 KiB windows.
  const items = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0
    ? { apiVersion: 'v1', kind: 'Node', metadata: { name: `n${i}`, annotations: { note: `ünïcødé € 😀 ${'x'.repeat(i % 7)}`.repeat(8) } }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } }
    : { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'ns', labels: { app: 'a' } }, spec: { nodeName: `n${i - 1}` }, status: { phase: 'Running' } }));
  const list = { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };

  it('reads a List from a byte source one item at a time, exactly as its JSON reads', () => {
    const bytes = Buffer.from(stringify(list, { lineWidth: 0, indentSeq: false }));
    expect(bytes.length).toBeGreaterThan(3 * 65536);
    const expected = parseSnapshot(JSON.stringify(list), 'json');
    const source = sourceOf(bytes);
    expect(parseSnapshot(source, 'file')).toEqual(expected);
    expect(source.largestRead).toBeLessThan(bytes.length / 2);
    expect(parseSnapshot(bytes, 'bytes')).toEqual(expected);
    const crlf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(bytes.toString('utf8').replace(/\n/g, '\r\n'))]);
    expect(parseSnapshot(sourceOf(crlf), 'crlf with a byte order mark')).toEqual(expected);
  });

  it('refuses NUL and non-UTF-8 bytes anywhere in a byte source (NUL first), and accepts a character cut by a read window', () => {
    const head = 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n  annotations:\n    a: "';
    const text = `${head}${'x'.repeat(65535 - Buffer.byteLength(head))}€ and more"\n`;
    const bytes = Buffer.from(text);
    expect(bytes.subarray(65535, 65538).toString('utf8')).toBe('€');
    expect(parseSnapshot(sourceOf(bytes), 'in').nodes[0]?.metadata?.annotations?.['a']).toMatch(/x€ and more$/);
    const bad = Buffer.from(bytes);
    bad[70000 % bad.length] = 0xff;
    expect((errorOf(() => parseSnapshot(sourceOf(bad), 'in')) as Error).message).toBe('in: not text (not valid UTF-8): want YAML or JSON');
    const both = Buffer.concat([bad, Buffer.from('x'.repeat(70000)), Buffer.from([0])]);
    expect((errorOf(() => parseSnapshot(sourceOf(both), 'in')) as Error).message).toBe('in: not text (it holds NUL bytes): want YAML or JSON');
  });

  it('numbers the documents of a stream read piecewise as a whole-text parse does', () => {
    const stream = [
      'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n',
      'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p1}, spec: {nodeName: n1}}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p2}\n',
      '# only a comment\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n',
    ];
    const read = parseSnapshot(stream.join('---\n'), 's');
    expect([read.nodes.map((n) => n.metadata?.name), read.pods.map((p) => p.metadata?.name)]).toEqual([['n1'], ['p1', 'p2']]);
    // A directive makes the stream parse whole: the messages are the same.
    for (const text of [stream.join('---\n'), `%YAML 1.2\n---\n${stream.join('---\n')}`]) {
      expect((errorOf(() => parseSnapshot(`${text}---\napiVersion: v1\nkind: Node\nmetadata: {labels: {a: b}}\n`, 'in')) as Error).message).toBe('in: document 4 (Node) has no metadata.name');
      expect((errorOf(() => parseSnapshot(text.replace('metadata: {name: p2}', 'metadata: {labels: {a: b}}'), 'in')) as Error).message).toBe('in: document 2.items[1] (Pod) has no metadata.name');
    }
  });

  it('refuses an alias bomb in a List item of a later document, whatever follows it', () => {
    const bomb = ALIAS_BOMB_YAML.replace(/^metadata:\n((?: {2}a\d.*\n)+)items:\n- (.*)$/m, (_m, anchors: string, item: string) => `items:\n- ${item.replace('bomb: *a8', `bomb: {${anchors.trim().split('\n').map((l) => l.trim()).join(', ')}}`)}`);
    const text = `apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n${bomb}- {apiVersion: v1, kind: Node, metadata: {name: n2, labels: *undefined}}\n---\nkind: Node\n`;
    expect((errorOf(() => parseSnapshot(text, 'in')) as Error).message).toMatch(/^in: document\.items\[0\]: more than 100 YAML alias expansions/);
  });

  it('keeps of Pods and Nodes only the fields a plan reads', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { a: 'b' }, managedFields: [{ manager: 'kubelet' }] },
      spec: { nodeName: 'n', affinity: { nodeAffinity: {} }, containers: [{ name: 'c', image: 'i' }], volumes: [] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [], podIP: '10.0.0.1' },
    };
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { taints: [], unschedulable: false, providerID: 'aws:///x' }, status: { conditions: [], capacity: { cpu: '2' }, images: [] } };
    for (const text of [stringify({ apiVersion: 'v1', kind: 'List', items: [pod, node] }), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod, node] })]) {
      const read = parseSnapshot(text, 's');
      expect(read.pods).toEqual([{
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { a: 'b' } },
        spec: { nodeName: 'n', affinity: { nodeAffinity: {} } }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      }]);
      expect(read.nodes).toEqual([{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { taints: [], unschedulable: false }, status: { conditions: [] } }]);
    }
  });

  it('reads a string that has no UTF-8 form (a lone surrogate) whole', () => {
    const read = parseSnapshot('apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n  annotations: {a: "x\ud800"}\n', 's');
    expect(read.nodes[0]?.metadata?.annotations?.['a']).toBe('x\ud800');
  });
});

describe('planSnapshotText()', () => {
  it('plans the raw snapshot (string timestamps) per the plan-cli contract', () => {
    const report = planSnapshotText(VALID_YAML, 's', NOW, planOptionsOf({}));
    const [ds] = report.daemonSets;
    expect(ds?.create.map((c) => c.node)).toEqual(['node-1', 'node-2']);
    expect(ds?.delete).toEqual([{ name: 'nginx-ds-old', node: 'master', reason: 'not-eligible' }]);
    expect(ds?.status).toEqual({
      currentNumberScheduled: 0,
      numberMisscheduled: 1,
      desiredNumberScheduled: 2,
      numberReady: 0,
      updatedNumberScheduled: 0,
      numberAvailable: 0,
      numberUnavailable: 2,
      observedGeneration: 2,
      conditions: [{ type: 'Custom', status: 'True' }],
    });
    expect(ds?.requeueAfterSeconds).toBeNull();
  });

  it('gives a DaemonSet being deleted an entry with no creates or deletes', () => {
    const report = planSnapshotText(`${DELETING_DS_JSON}\n---\n${NODE_JSON}\n`, 's', NOW, planOptionsOf({}));
    expect(report.daemonSets.map((d) => [d.name, d.create.length, d.delete.length, d.outcome])).toEqual([['gone', 0, 0, 'deleting']]);
  });

  it('honours --placement nodeName', () => {
    const objects = parseSnapshot(VALID_YAML, 's');
    const report = planSnapshotText(VALID_YAML, 's', NOW, planOptionsOf({ placement: 'nodeName' }));
    expect(report.daemonSets[0]?.create.map((c) => c.node)).toEqual(['node-1', 'node-2']);
    expect(objects.nodes).toHaveLength(3);
    expect(() => planOptionsOf({ placement: 'magic' })).toThrow(SnapshotError);
    expect(() => planOptionsOf({ backoffMaxSeconds: '-1' })).toThrow(SnapshotError);
  });

  it('parses --now as RFC 3339 only', () => {
    expect(parseNow('2024-05-01T00:00:00Z', () => new Date(0)).toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseNow(undefined, () => NOW)).toBe(NOW);
    expect(() => parseNow('yesterday', () => NOW)).toThrow(SnapshotError);
  });

  it('lists the revision, adoption/release, label and annotation writes of the pass', () => {
    const fresh = planSnapshotText(VALID_YAML, 's', NOW, planOptionsOf({})).daemonSets[0];
    expect(fresh?.revision).toEqual({
      current: { name: expect.stringMatching(/^nginx-ds-[0-9a-z]+$/), hash: expect.stringMatching(/^[0-9a-z]+$/), revision: 1 },
      create: { name: fresh?.revision.current.name, revision: 1 },
      update: [],
      delete: [],
    });
    expect([fresh?.ownership, fresh?.labels, fresh?.annotations]).toEqual([[], [], null]);

    const converged = JSON.parse(convergedSnapshot()) as { items: Record<string, unknown>[] };
    const [ds, node, pod, rev] = converged.items as [Record<string, unknown>, unknown, { metadata: Record<string, unknown> }, { metadata: Record<string, unknown>; revision: number }];
    // A second revision with the same data and a lower number is a duplicate: the pods of the
    // higher one are relabelled to the kept one's hash and the duplicate is deleted.
    const twin = { ...rev, revision: 2, metadata: { ...rev.metadata, name: 'agent-twin', uid: 'twin-uid', labels: { ...(rev.metadata.labels as object), 'controller-revision-hash': 'twin' } } };
    const twinPod = { ...pod, metadata: { ...pod.metadata, name: 'agent-twin-pod', uid: 'twin-pod-uid', labels: { ...(pod.metadata.labels as object), 'controller-revision-hash': 'twin' } } };
    const released = { ...ORPHAN_POD, metadata: { ...ORPHAN_POD.metadata, name: 'foreign', uid: 'foreign-uid', labels: { app: 'other' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true }] } };
    const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [ds, node, pod, rev, twin, twinPod, ORPHAN_POD, released] });
    const entry = planSnapshotText(text, 's', NOW, planOptionsOf({})).daemonSets[0];
    expect(entry?.ownership).toEqual([{ kind: 'Pod', action: 'adopt', name: 'stray' }, { kind: 'Pod', action: 'release', name: 'foreign' }]);
    expect(entry?.revision.delete).toEqual([{ name: expect.any(String), reason: 'duplicate' }]);
    expect(entry?.labels.length).toBeGreaterThan(0);
    expect(entry?.labels.every((l) => l.labels['controller-revision-hash'] === entry.revision.current.hash)).toBe(true);
    const table = renderTable({ daemonSets: entry ? [entry] : [] });
    expect(table).toContain('adopt Pod stray');
    expect(table).toContain('release Pod foreign');
    expect(table).toMatch(/revision: delete \S+ \(duplicate\)/);
    expect(table).toMatch(/relabel pod \S+/);
  });

  it('tells a pass that would write something from one that would not (plan --exit-code)', () => {
    expect(hasChanges(planSnapshotText(VALID_YAML, 's', NOW, planOptionsOf({})))).toBe(true);
    const converged = planSnapshotText(convergedSnapshot(), 's', NOW, planOptionsOf({}));
    expect(converged.daemonSets.map((d) => [d.create, d.delete, d.statusChanged, d.revision.create, d.ownership])).toEqual([[[], [], false, null, []]]);
    expect(hasChanges(converged)).toBe(false);
    expect(hasChanges(planSnapshotText(convergedSnapshot([ORPHAN_POD]), 's', NOW, planOptionsOf({})))).toBe(true);
    expect(hasChanges({ daemonSets: [] })).toBe(false);
  });

  it('renders json and table', () => {
    const report = planSnapshotText(VALID_YAML, 's', NOW, planOptionsOf({}));
    expect(JSON.parse(renderJson(report))).toEqual(JSON.parse(JSON.stringify(report)));
    const table = renderTable(report);
    expect(table).toContain('DaemonSet default/nginx-ds');
    expect(table).toMatch(/master\s+delete\s+nginx-ds-old\s+not-eligible/);
    expect(table).toMatch(/node-1\s+create\s+nginx-ds-/);
    expect(renderTable({ daemonSets: [] })).toBe('No DaemonSets in the snapshot.\n');
  });
});
