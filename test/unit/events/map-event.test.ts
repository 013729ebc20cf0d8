import { describe, expect, it } from 'vitest';
import { mapEvents, type MappingOptions } from '../../../lib/events/map-event.js';
import { parseWebhookBody } from '../../../lib/events/parse.js';
import { dedupId } from '../../../lib/events/identity.js';
import { admissionReview, auditEvent, daemonSet, eventList, node, pod, T0 } from './fixtures.js';

const native: MappingOptions = { managed: 'native', observedAt: T0 };
const crd: MappingOptions = { managed: 'crd', observedAt: T0 };

function map(body: unknown, options: MappingOptions = native) {
  const parsed = parseWebhookBody(body);
  if (!parsed.ok) throw new Error(`parse failed: ${parsed.reason}`);
  const mapped = mapEvents(parsed.body.events, options);
  if (!mapped.ok) throw new Error(`map refused: ${mapped.reason}`);
  return { keys: mapped.requests.map((r) => r.key), fanouts: mapped.fanouts.map(({ dedupId: _d, observedAt: _o, ...rest }) => rest), mapped };
}

describe('mapEvents() — DaemonSets (WATCH-1)', () => {
  it.each(['CREATE', 'UPDATE', 'DELETE'] as const)('maps an admission %s of a DaemonSet to its own key', (operation) => {
    const ds = daemonSet('fluentd');
    const body = admissionReview({ operation, object: ds, oldObject: operation === 'CREATE' ? undefined : ds });
    expect(map(body)).toMatchObject({ keys: ['logging/fluentd'], fanouts: [] });
  });

  it('maps a status-subresource update of a DaemonSet too (upstream syncs every update)', () => {
    const ds = daemonSet('fluentd');
    expect(map(admissionReview({ operation: 'UPDATE', object: ds, oldObject: ds, subResource: 'status' })).keys).toEqual(['logging/fluentd']);
  });

  it('maps the CRD group only when the CRD is the managed resource', () => {
    const custom = daemonSet('agent', { apiVersion: 'daemonless.io/v1' });
    const body = { type: 'ADDED', object: custom };
    expect(map(body, crd).keys).toEqual(['logging/agent']);
    expect(map(body, native).keys).toEqual([]);
    expect(map({ type: 'ADDED', object: daemonSet('agent') }, crd).keys).toEqual([]);
  });

  it('stamps requests with observedAt and a dedup id from uid, resourceVersion, operation and key', () => {
    const { mapped } = map({ type: 'MODIFIED', object: daemonSet('fluentd', { rv: '301' }) });
    expect(mapped.requests).toEqual([{ key: 'logging/fluentd', observedAt: T0, dedupId: dedupId('watch|uid-ds-fluentd|301|MODIFIED', 'logging/fluentd') }]);
    const again = map({ type: 'MODIFIED', object: daemonSet('fluentd', { rv: '302' }) }).mapped.requests[0]!;
    expect(again.dedupId).not.toBe(mapped.requests[0]!.dedupId);
    expect(again.dedupId).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('mapEvents() — Pods (WATCH-2..4)', () => {
  it('maps a pod created by a DaemonSet to its owner', () => {
    expect(map(admissionReview({ operation: 'CREATE', object: pod('fluentd-abc') }))).toMatchObject({ keys: ['logging/fluentd'], fanouts: [] });
  });

  it('maps a status update of an owned pod to its owner (readiness changes matter)', () => {
    const p = pod('fluentd-abc');
    expect(map(admissionReview({ operation: 'UPDATE', object: p, oldObject: p, subResource: 'status' })).keys).toEqual(['logging/fluentd']);
  });

  it('maps the deletion of an owned pod to its owner and of an orphan to nothing', () => {
    expect(map(admissionReview({ operation: 'DELETE', oldObject: pod('fluentd-abc') })).keys).toEqual(['logging/fluentd']);
    expect(map(admissionReview({ operation: 'DELETE', oldObject: pod('stray', { owner: null }) }))).toMatchObject({ keys: [], fanouts: [] });
  });

  it('ignores pods controlled by something other than a managed DaemonSet', () => {
    expect(map({ type: 'ADDED', object: pod('web-1', { owner: { kind: 'ReplicaSet', name: 'web-5d4f' } }) })).toMatchObject({ keys: [], fanouts: [] });
    expect(map({ type: 'ADDED', object: pod('x', { owner: { apiVersion: 'evil.io/v1', name: 'fluentd' } }) })).toMatchObject({ keys: [], fanouts: [] });
    expect(map({ type: 'ADDED', object: pod('x', { owner: { name: 'fluentd', controller: false } }) }).keys).toEqual([]);
  });

  it('fans an orphan pod out by selector (adoption) on create', () => {
    const orphan = pod('stray', { owner: null, labels: { app: 'fluentd' } });
    expect(map(admissionReview({ operation: 'CREATE', object: orphan }))).toMatchObject({
      keys: [], fanouts: [{ scope: 'selector', namespace: 'logging', labels: { app: 'fluentd' } }],
    });
  });

  it('fans an orphan out on update only when labels changed (or the old state is unknown)', () => {
    const before = pod('stray', { owner: null, labels: { app: 'x' }, rv: '1' });
    const same = pod('stray', { owner: null, labels: { app: 'x' }, rv: '2' });
    const relabelled = pod('stray', { owner: null, labels: { app: 'fluentd' }, rv: '2' });
    expect(map(admissionReview({ operation: 'UPDATE', object: same, oldObject: before })).fanouts).toEqual([]);
    expect(map(admissionReview({ operation: 'UPDATE', object: relabelled, oldObject: before })).fanouts).toHaveLength(1);
    expect(map({ type: 'MODIFIED', object: same }).fanouts).toHaveLength(1);
  });

  it('does not fan out an orphan that is being deleted', () => {
    expect(map({ type: 'MODIFIED', object: pod('stray', { owner: null, deleting: true }) }).fanouts).toEqual([]);
  });

  it('maps a terminating owned pod to its owner', () => {
    expect(map({ type: 'MODIFIED', object: pod('fluentd-abc', { deleting: true }) }).keys).toEqual(['logging/fluentd']);
  });

  it('syncs the old owner too when the controller reference changed', () => {
    const before = pod('p', { owner: { name: 'old-ds' } });
    const after = pod('p', { owner: { name: 'new-ds' } });
    expect(map(admissionReview({ operation: 'UPDATE', object: after, oldObject: before })).keys.sort()).toEqual(['logging/new-ds', 'logging/old-ds']);
  });

  it('maps an update of a pod being deleted as its deletion: the owner, never an orphan fan-out', () => {
    const before = pod('stray', { owner: null, labels: { app: 'x' }, rv: '1', deleting: true });
    const relabelled = pod('stray', { owner: null, labels: { app: 'fluentd' }, rv: '2', deleting: true });
    expect(map({ type: 'MODIFIED', object: relabelled, oldObject: before })).toMatchObject({ keys: [], fanouts: [] });
    expect(map({ type: 'MODIFIED', object: pod('fluentd-abc', { rv: '2', deleting: true }), oldObject: pod('fluentd-abc', { rv: '1', deleting: true }) }).keys).toEqual(['logging/fluentd']);
  });

  it('ignores a watch update whose resourceVersion did not change', () => {
    const p = pod('fluentd-abc', { rv: '7' });
    expect(map({ type: 'MODIFIED', object: p, oldObject: p })).toMatchObject({ keys: [], fanouts: [] });
  });
});

describe('mapEvents() — Nodes (WATCH-6, WATCH-10)', () => {
  const facts = { labels: { 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux' }, taints: [] };
  it.each([
    ['create', { type: 'ADDED', object: node('node-1') }, null, facts],
    ['delete', { type: 'DELETED', object: node('node-1') }, facts, null],
    ['admission create', admissionReview({ operation: 'CREATE', object: node('node-1') }), null, facts],
    ['admission delete', admissionReview({ operation: 'DELETE', oldObject: node('node-1') }), facts, null],
  ])('sends a node fan-out with the node before and after on %s', (_name, body, before, after) => {
    expect(map(body)).toMatchObject({ keys: [], fanouts: [{ scope: 'node', node: 'node-1', before, after }] });
  });

  it('sends the labels and taints before and after an update; without the old object, a fan-out to every DaemonSet', () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const tainted = node('node-1', { rv: '2', taints: [taint] });
    expect(map(admissionReview({ operation: 'UPDATE', object: tainted, oldObject: node('node-1', { rv: '1' }) })).fanouts).toEqual([
      expect.objectContaining({ scope: 'node', node: 'node-1', before: facts, after: { ...facts, taints: [taint] } }),
    ]);
    expect(map(admissionReview({ operation: 'UPDATE', object: tainted })).fanouts).toEqual([expect.objectContaining({ scope: 'all' })]);
  });

  it('fans out on label or taint changes only', () => {
    const before = node('node-1', { rv: '1' });
    const heartbeat = node('node-1', { rv: '2', extra: { allocatable: { cpu: '3' } } });
    const relabelled = node('node-1', { rv: '2', labels: { disk: 'ssd' } });
    const tainted = node('node-1', { rv: '2', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    expect(map(admissionReview({ operation: 'UPDATE', object: heartbeat, oldObject: before })).fanouts).toEqual([]);
    expect(map(admissionReview({ operation: 'UPDATE', object: relabelled, oldObject: before })).fanouts).toHaveLength(1);
    expect(map(admissionReview({ operation: 'UPDATE', object: tainted, oldObject: before })).fanouts).toHaveLength(1);
    expect(map({ type: 'MODIFIED', object: relabelled, oldObject: before }).fanouts).toHaveLength(1);
  });

  it('compares taints as eligibility does: an empty value is an absent one, the time added changes nothing (WATCH-12)', () => {
    const t = { key: 'example.com/maintenance', effect: 'NoExecute' };
    const before = node('node-1', { rv: '1', taints: [{ ...t, value: '', timeAdded: '2024-05-01T10:00:00Z' }] });
    const same = node('node-1', { rv: '2', taints: [{ ...t, timeAdded: '2024-05-01T10:00:00Z' }] });
    const readded = node('node-1', { rv: '2', taints: [{ ...t, timeAdded: '2024-05-01T10:05:00Z' }] });
    const otherValue = node('node-1', { rv: '2', taints: [{ ...t, value: 'x', timeAdded: '2024-05-01T10:00:00Z' }] });
    expect(map(admissionReview({ operation: 'UPDATE', object: same, oldObject: before })).fanouts).toEqual([]);
    expect(map(admissionReview({ operation: 'UPDATE', object: readded, oldObject: before })).fanouts).toEqual([]);
    expect(map(admissionReview({ operation: 'UPDATE', object: otherValue, oldObject: before })).fanouts).toHaveLength(1);
  });

  it.each<[string, { key: string; value?: string; effect: string }, number]>([
    ['cordoned (unschedulable, tolerated by every daemon pod)', { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, 0],
    ['unreachable NoExecute (node lifecycle; tolerated)', { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }, 0],
    ['not-ready NoExecute (tolerated)', { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }, 0],
    ['memory pressure (tolerated)', { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }, 0],
    ['a PreferNoSchedule taint (never part of eligibility)', { key: 'dedicated', value: 'gpu', effect: 'PreferNoSchedule' }, 0],
    ['not-ready NoSchedule (not tolerated by default)', { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, 1],
    ['network-unavailable (tolerated with hostNetwork only)', { key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }, 1],
    ['unreachable NoSchedule (not tolerated by default)', { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, 1],
  ])('a taint update %s: %i fan-outs (WATCH-12)', (_name, taint, fanouts) => {
    const before = node('node-1', { rv: '1', labels: { a: 'b' } });
    const after = node('node-1', { rv: '2', labels: { a: 'b' }, taints: [taint] });
    expect(map(admissionReview({ operation: 'UPDATE', object: after, oldObject: before })).fanouts).toHaveLength(fanouts);
    expect(map({ type: 'MODIFIED', object: before, oldObject: after }).fanouts).toHaveLength(fanouts);
  });

  it('ignores node status writes, which cannot change labels or taints', () => {
    const n = node('node-1');
    expect(map(admissionReview({ operation: 'UPDATE', object: n, oldObject: n, subResource: 'status' })).fanouts).toEqual([]);
    expect(map(eventList([auditEvent({ auditID: 'a1', verb: 'patch', resource: 'nodes', name: 'node-1', subresource: 'status' })])).fanouts).toEqual([]);
  });

  it('fans out a node update whose previous state is unknown', () => {
    expect(map({ type: 'MODIFIED', object: node('node-1') }).fanouts).toHaveLength(1);
  });
});

describe('mapEvents() — audit EventList', () => {
  it('maps writes, skips reads, failed requests and early stages', () => {
    const body = eventList([
      auditEvent({ auditID: 'a1', verb: 'create', resource: 'pods', namespace: 'logging', name: 'fluentd-abc', requestObject: pod('fluentd-abc') }),
      auditEvent({ auditID: 'a2', verb: 'get', resource: 'pods', namespace: 'logging', name: 'fluentd-abc' }),
      auditEvent({ auditID: 'a3', verb: 'delete', resource: 'daemonsets', apiGroup: 'apps', namespace: 'kube-system', name: 'kube-proxy', code: 404 }),
      auditEvent({ auditID: 'a4', verb: 'update', resource: 'daemonsets', apiGroup: 'apps', namespace: 'monitoring', name: 'node-exporter', stage: 'RequestReceived' }),
      auditEvent({ auditID: 'a5', verb: 'patch', resource: 'daemonsets', apiGroup: 'apps', namespace: 'monitoring', name: 'node-exporter' }),
      auditEvent({ auditID: 'a6', verb: 'create', resource: 'nodes', name: 'node-9' }),
      auditEvent({ auditID: 'a7', verb: 'update', resource: 'configmaps', namespace: 'x', name: 'y' }),
    ]);
    expect(map(body)).toMatchObject({ keys: ['logging/fluentd', 'monitoring/node-exporter'], fanouts: [{ scope: 'all' }] });
  });

  it('fans a Metadata-level pod event out to its namespace (no object to read the owner from)', () => {
    const body = eventList([auditEvent({ auditID: 'a1', verb: 'delete', resource: 'pods', namespace: 'logging', name: 'fluentd-abc' })]);
    expect(map(body).fanouts).toEqual([{ scope: 'namespace', namespace: 'logging', cause: 'pod logging/fluentd-abc delete' }]);
  });

  it('uses the responseObject of a patch (the stored object), never the patch itself', () => {
    const body = eventList([auditEvent({ auditID: 'a1', verb: 'patch', resource: 'pods', namespace: 'logging', name: 'p', requestObject: { metadata: { labels: { x: 'y' } } }, responseObject: pod('p') })]);
    expect(map(body).keys).toEqual(['logging/fluentd']);
  });
});

describe('mapEvents() — refusals (forged or impossible objects)', () => {
  const refused = (body: unknown) => {
    const parsed = parseWebhookBody(body);
    if (!parsed.ok) throw new Error(parsed.reason);
    return mapEvents(parsed.body.events, native);
  };

  it.each([
    ['an owner name that is not a DNS name', pod('p', { owner: { name: '../../etc' } })],
    ['an owner without uid', pod('p', { owner: { name: 'fluentd', uid: '' } })],
    ['an invalid namespace', pod('p', { namespace: 'Not_A_Namespace' })],
    ['an invalid pod name', pod('-bad-')],
    ['an invalid DaemonSet name', daemonSet('UPPER')],
  ])('refuses %s', (_name, object) => {
    expect(refused({ type: 'ADDED', object })).toMatchObject({ ok: false });
  });

  it('refuses two controller references', () => {
    const p = pod('p') as { metadata: { ownerReferences: unknown[] } };
    p.metadata.ownerReferences.push({ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'other', uid: 'u2', controller: true });
    expect(refused({ type: 'ADDED', object: p })).toMatchObject({ ok: false, reason: expect.stringContaining('more than one controller') });
  });

  it('refuses an orphan with an invalid label before it reaches a fan-out', () => {
    expect(refused({ type: 'ADDED', object: pod('p', { owner: null, labels: { 'bad key!': 'v' } }) })).toMatchObject({ ok: false });
  });
});
