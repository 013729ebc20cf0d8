/**
 * Node-scoped passes (IMPL-6), the narrowed node fan-out (WATCH-10), one node list per batch
 * (IMPL-5) and going on after the burst cap (IMPL-7), through the real reconcile shell and the real
 * Kubernetes adapter over the in-memory API server.
 */
import { describe, expect, it } from 'vitest';
import { createReconciler } from '../../../lib/app/reconcile-key.js';
import { listDaemonSetsVia } from '../../../lib/app/cluster-ports.js';
import { decodeMessage, encodeMessage, toFanoutMessage, toReconcileMessage } from '../../../lib/app/messages.js';
import { newBatchState, processRecord, type BatchDeps } from '../../../lib/app/process-batch.js';
import type { ReconcileFn, ReconcileOptions } from '../../../lib/app/ports.js';
import { formatLabelSelector, nodeChangePass, schedulingOf } from '../../../lib/core/index.js';
import type { NodeFacts } from '../../../lib/events/types.js';
import { requestGroupId } from '../../../lib/events/identity.js';
import { noMetrics, silentLogger } from '../../../lib/observability/ports.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { directApi, MemoryApiServer, WRITE_OPS, type RawApi, type RawOp } from '../../support/memory-api-server.js';
import { MemoryKubeCluster } from '../../support/memory-clients.js';
import { buildDaemonSet, buildNode, Clock, dsKey } from '../faults/harness.js';
import { RecordingQueue, report } from './helpers.js';
import { TerminalError, TransientError } from '../../../lib/app/errors.js';

const plainNode = (name: string) => buildNode(name, { labelled: false, taint: 'none' });
const spec = { strategy: { type: 'RollingUpdate' as const, maxUnavailable: 1, maxSurge: 0 }, minReady: 0, grace: 0, nodeSelector: false, tolerate: false, image: 1 };

/** A server with `nodes` nodes and `daemonSets` DaemonSets, and a reconciler that records the API calls it makes. */
function setup(nodes: number, daemonSets = 1, burstReplicas?: number) {
  const clock = new Clock();
  const server = new MemoryApiServer(() => clock.date(), { bindAfterTicks: 0, readyAfterTicks: 0 });
  for (let i = 0; i < nodes; i++) server.putNode(plainNode(`node-${i}`));
  for (let i = 0; i < daemonSets; i++) server.applyDaemonSet(buildDaemonSet(i, spec));
  const ops: RawOp[] = [];
  const counting = (id: number): RawApi => {
    const direct = directApi(server, id);
    return { call: (op, run, info) => { ops.push(op); return direct.call(op, run, info); } };
  };
  const cluster = new MemoryKubeCluster(server, { rawFor: counting });
  const reconcile = createReconciler({ cluster, now: () => clock.date(), ...(burstReplicas === undefined ? {} : { burstReplicas }) });
  const settle = async (key = dsKey(0)): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      const r = await reconcile(key, { continueUntil: Number.MAX_SAFE_INTEGER });
      server.tick();
      if (r.writes === 0) return;
    }
    throw new Error('did not settle');
  };
  const podsOn = (node: string) => [...server.pods.values()].filter((p) => p.spec?.nodeName === node || JSON.stringify(p.spec?.affinity ?? {}).includes(`"${node}"`));
  return { server, ops, reconcile, settle, podsOn, cluster };
}

describe('node-scoped pass (IMPL-6)', () => {
  it('gives a joined node its pod with five reads, writes no status and asks for a full pass a second later', async () => {
    const s = setup(3);
    await s.settle();
    const statusBefore = JSON.stringify(s.server.daemonSets.get(dsKey(0))?.status);
    s.server.putNode(plainNode('node-3'));
    s.ops.length = 0;
    const r = await s.reconcile(dsKey(0), { node: 'node-3' });
    expect(r).toMatchObject({ scope: 'node', podsCreated: 1, podsDeleted: 0, statusWritten: false, reads: 5, requeueAfterSeconds: 1 });
    // The four reads of IMPL-6, and the pods not yet bound before a create.
    expect(s.ops.filter((op) => op !== 'createPod' && op !== 'createEvent').sort()).toEqual(['listPods', 'listPods', 'listRevisions', 'readDaemonSet', 'readNode']);
    expect(s.podsOn('node-3')).toHaveLength(1);
    expect(JSON.stringify(s.server.daemonSets.get(dsKey(0))?.status)).toBe(statusBefore);
    // The same work again finds the pod there (bound, so the field selector returns it): nothing to do.
    s.server.tick();
    expect(await s.reconcile(dsKey(0), { node: 'node-3' })).toMatchObject({ scope: 'node', podsCreated: 0, writes: 0 });
  });

  it('reads everything at once with the label selector the fan-out passed on, and again with the right one when it differs', async () => {
    const s = setup(3);
    await s.settle();
    s.server.putNode(plainNode('node-3'));
    s.server.putNode(plainNode('node-4'));
    const selector = formatLabelSelector(s.server.daemonSets.get(dsKey(0))?.spec?.selector);
    s.ops.length = 0;
    expect(await s.reconcile(dsKey(0), { node: 'node-3', labelSelector: selector })).toMatchObject({ scope: 'node', podsCreated: 1, reads: 5 });
    expect(await s.reconcile(dsKey(0), { node: 'node-4', labelSelector: 'app=another' })).toMatchObject({ scope: 'node', podsCreated: 1, reads: 9 });
    expect(s.podsOn('node-4')).toHaveLength(1);
  });

  it('sees a pod of the node still waiting for the scheduler before it creates one', async () => {
    const s = setup(3);
    await s.settle();
    s.server.putNode(plainNode('node-3'));
    expect(await s.reconcile(dsKey(0), { node: 'node-3' })).toMatchObject({ podsCreated: 1 });
    // The same pod under another name (a replacement's next attempt), not bound yet.
    const [created] = s.podsOn('node-3');
    const ns = created?.metadata?.namespace ?? '';
    s.server.deletePod(ns, created?.metadata?.name ?? '', created?.metadata?.uid);
    s.server.tick();
    s.server.createPod(ns, { ...created, metadata: { ...created?.metadata, name: 'waiting', uid: undefined, resourceVersion: undefined }, spec: { ...created!.spec!, nodeName: undefined } });
    s.ops.length = 0;
    expect(await s.reconcile(dsKey(0), { node: 'node-3' })).toMatchObject({ scope: 'node', podsCreated: 0, writes: 0 });
    expect(s.podsOn('node-3').map((p) => p.metadata?.name)).toEqual(['waiting']);
  });

  it.each<[string, number, (s: ReturnType<typeof setup>) => void]>([
    // Rollout controls are read by the planner: after the node's reads.
    ['rollout controls are set', 5, (s) => {
      const ds = s.server.daemonSets.get(dsKey(0));
      s.server.patchDaemonSet(ds?.metadata?.namespace ?? '', ds?.metadata?.name ?? '', { metadata: { annotations: { 'daemonless.io/rollout-paused': 'true' } } });
    }],
    // Without a label selector the DaemonSet is read first, and it already says so: one read.
    ['a rolling update is under way', 1, (s) => {
      const ds = s.server.daemonSets.get(dsKey(0));
      s.server.applyDaemonSet(buildDaemonSet(0, { ...spec, image: 2 }));
      expect(s.server.daemonSets.get(dsKey(0))?.metadata?.generation).toBeGreaterThan(ds?.metadata?.generation ?? 0);
    }],
  ])('leaves the node to a full pass when %s (%i reads): no write, no node list, fullPassNeeded', async (_name, reads, change) => {
    const s = setup(2);
    await s.settle();
    change(s);
    s.server.putNode(plainNode('node-2'));
    s.ops.length = 0;
    const r = await s.reconcile(dsKey(0), { node: 'node-2' });
    expect(r).toMatchObject({ scope: 'node', fullPassNeeded: true, writes: 0, reads });
    expect(s.ops).not.toContain('listNodes');
  });

  it('reports a DaemonSet that is gone as missing', async () => {
    const s = setup(1, 0);
    expect(await s.reconcile(dsKey(0), { node: 'node-0' })).toMatchObject({ missing: true, reads: 1 });
  });
});

describe('going on after the burst cap (IMPL-7)', () => {
  it('creates every pod in one call while time is left, one burst without it', async () => {
    const once = setup(7, 1, 2);
    const first = await once.reconcile(dsKey(0));
    expect(first).toMatchObject({ podsCreated: 2, requeueAfterSeconds: 1 });
    const on = setup(7, 1, 2);
    const all = await on.reconcile(dsKey(0), { continueUntil: Number.MAX_SAFE_INTEGER });
    expect(all.podsCreated).toBe(7);
    expect(all.bursts).toBe(4);
    expect(all.requeueAfterSeconds).toBeNull();
    // Later bursts re-read pods, revisions and the DaemonSet, never the nodes.
    expect(on.ops.filter((op) => op === 'listNodes')).toHaveLength(1);
    expect(on.ops.filter((op) => op === 'listPods')).toHaveLength(4);
  });

  it('stops going on once the deadline passed', async () => {
    const s = setup(7, 1, 2);
    expect(await s.reconcile(dsKey(0), { continueUntil: 0 })).toMatchObject({ podsCreated: 2, bursts: 1, requeueAfterSeconds: 1 });
  });
});

describe('one node list and one read of each node per batch (IMPL-5)', () => {
  it('lists nodes once for the full passes of every DaemonSet in a batch, again in the next batch', async () => {
    const s = setup(3, 3);
    const batch = newBatchState();
    for (let i = 0; i < 3; i++) await s.reconcile(dsKey(i), { shared: batch.shared });
    expect(s.ops.filter((op) => op === 'listNodes')).toHaveLength(1);
    await s.reconcile(dsKey(0), { shared: newBatchState().shared });
    expect(s.ops.filter((op) => op === 'listNodes')).toHaveLength(2);
  });

  it('reads a node once for the node-scoped passes of every DaemonSet in a batch, again in the next batch', async () => {
    const s = setup(3, 3);
    for (let i = 0; i < 3; i++) await s.settle(dsKey(i));
    s.server.putNode(plainNode('node-3'));
    s.ops.length = 0;
    const batch = newBatchState();
    const reports = await Promise.all([0, 1, 2].map((i) => s.reconcile(dsKey(i), { node: 'node-3', shared: batch.shared })));
    expect(reports.map((r) => r.podsCreated)).toEqual([1, 1, 1]);
    expect(s.ops.filter((op) => op === 'readNode')).toHaveLength(1);
    // Each pass counts only the reads it sent: one sent the node read, the others shared it.
    expect(reports.map((r) => r.reads).sort()).toEqual([4, 4, 5]);
    await s.reconcile(dsKey(0), { node: 'node-3', shared: newBatchState().shared });
    expect(s.ops.filter((op) => op === 'readNode')).toHaveLength(2);
  });

  it('reads a node again after a failed shared read', async () => {
    const s = setup(3);
    await s.settle();
    s.server.putNode(plainNode('node-3'));
    const failed: Promise<never> = Promise.reject(new Error('boom'));
    failed.catch(() => undefined);
    const shared: ReconcileOptions['shared'] = { nodeByName: new Map([['node-3', failed]]) };
    await expect(s.reconcile(dsKey(0), { node: 'node-3', shared })).rejects.toThrow(/boom/);
    shared.nodeByName?.delete('node-3');
    await expect(s.reconcile(dsKey(0), { node: 'node-3', shared })).resolves.toMatchObject({ scope: 'node', podsCreated: 1 });
  });

  it('lists again after a failed shared list', async () => {
    const s = setup(1);
    const shared: ReconcileOptions['shared'] = { nodes: Promise.reject(new Error('boom')) };
    shared.nodes?.catch(() => undefined);
    await expect(s.reconcile(dsKey(0), { shared })).rejects.toThrow(/boom/);
    delete shared.nodes;
    await expect(s.reconcile(dsKey(0), { shared })).resolves.toMatchObject({ podsCreated: 1 });
  });
});

describe('the node fan-out (WATCH-10)', () => {
  const facts = (labels: Record<string, string>, taints: NodeFacts['taints'] = []): NodeFacts => ({ labels, taints });
  const wanted = schedulingOf(daemonSet().nodeSelector({ role: 'daemon' }).build());
  const tolerating = schedulingOf(daemonSet().tolerations([{ key: 'k', operator: 'Exists', effect: 'NoExecute' }]).build());

  it.each<[string, NodeFacts | null, NodeFacts | null, ReturnType<typeof nodeChangePass>, ReturnType<typeof nodeChangePass>]>([
    ['added, labelled', null, facts({ role: 'daemon' }), 'node', 'node'],
    ['added, not labelled', null, facts({}), null, 'node'],
    ['labelled', facts({}), facts({ role: 'daemon' }), 'node', null],
    ['label removed', facts({ role: 'daemon' }), facts({}), 'node', null],
    ['another label changed', facts({ role: 'daemon' }), facts({ role: 'daemon', zone: 'a' }), null, null],
    ['NoSchedule taint added', facts({ role: 'daemon' }), facts({ role: 'daemon' }, [{ key: 'k', effect: 'NoSchedule' }]), 'node', 'node'],
    ['NoExecute taint added', facts({}), facts({}, [{ key: 'k', effect: 'NoExecute' }]), null, null],
    ['deleted, was eligible', facts({ role: 'daemon' }), null, 'full', 'full'],
    ['deleted, was not', facts({}), null, null, 'full'],
  ])('%s → %s for the nodeSelector DaemonSet, %s for the tolerating one', (_name, before, after, forWanted, forTolerating) => {
    expect(nodeChangePass('n1', before, after, wanted)).toBe(forWanted);
    expect(nodeChangePass('n1', before, after, tolerating)).toBe(forTolerating);
  });

  function deps(queue: RecordingQueue, reconcile: ReconcileFn): BatchDeps {
    return {
      reconcile, queue, emitEvent: async () => undefined, logger: silentLogger, metrics: noMetrics, now: () => 1_700_000_000_000, maxReceives: 5,
      listDaemonSets: async () => ({ items: [
        { key: 'default/wanted', namespace: 'default', name: 'wanted', selector: { matchLabels: { app: 'a' } }, scheduling: wanted },
        { key: 'default/everywhere', namespace: 'default', name: 'everywhere', selector: { matchLabels: { app: 'b' } }, scheduling: tolerating },
        { key: 'default/unknown', namespace: 'default', name: 'unknown', selector: { matchLabels: { app: 'c' } } },
      ] }),
    };
  }

  it('runs node-scoped passes where eligibility changed (IMPL-9), enqueues full passes where the scheduling fields are unknown', async () => {
    const queue = new RecordingQueue();
    const ran: string[] = [];
    const body = encodeMessage(toFanoutMessage({ scope: 'node', node: 'n1', before: facts({}), after: facts({ role: 'daemon' }), cause: 'node n1 update', dedupId: 'f1' }));
    const outcome = await processRecord({ messageId: 'm1', body, receiveCount: 1 }, deps(queue, async (key, options) => {
      ran.push(`${key} ${options?.node ?? 'full'}`);
      return report(key, { scope: 'node', requeueAfterSeconds: 1 });
    }), newBatchState());
    expect(outcome).toEqual({ kind: 'fanout', keys: 2 });
    expect(ran).toEqual(['default/wanted n1']);
    expect(queue.requests.map((r) => [r.key, r.node])).toEqual([['default/unknown', undefined]]);
    // The node-scoped pass asks for its status pass, as from the queue.
    expect(queue.delayed.map((d) => [d.request.key, d.delaySeconds])).toEqual([['default/wanted', 1]]);
  });

  it('enqueues a node-scoped pass that failed transiently in its own group, and acks the fan-out; a terminal failure is not retried', async () => {
    const queue = new RecordingQueue();
    const body = encodeMessage(toFanoutMessage({ scope: 'node', node: 'n1', before: null, after: facts({ role: 'daemon' }), cause: 'node n1 create', dedupId: 'f1' }));
    const d = deps(queue, async (key) => {
      if (key === 'default/wanted') throw new TransientError('API down');
      throw new TerminalError('forbidden');
    });
    expect(await processRecord({ messageId: 'm1', body, receiveCount: 5 }, d, newBatchState())).toEqual({ kind: 'fanout', keys: 3 });
    expect(queue.requests.map((r) => [r.key, r.node, requestGroupId(r)])).toEqual([
      ['default/unknown', undefined, 'default/unknown'], ['default/wanted', 'n1', 'default/wanted@n1'],
    ]);
  });

  it('lists the DaemonSets once for the cluster-wide fan-outs of a batch, again after a failed list and in the next batch', async () => {
    const queue = new RecordingQueue();
    const d = deps(queue, async (key) => report(key));
    const lists: (string | undefined)[] = [];
    let failNext = false;
    const counted: BatchDeps = { ...d, listDaemonSets: async (request) => {
      lists.push(request.namespace);
      if (failNext) { failNext = false; throw new Error('list failed'); }
      return d.listDaemonSets(request);
    } };
    const joined = (node: string) => ({ messageId: node, receiveCount: 1, body: encodeMessage(toFanoutMessage({ scope: 'node', node, before: null, after: facts({ role: 'daemon' }), cause: `node ${node} create`, dedupId: node })) });
    const batch = newBatchState();
    await processRecord(joined('n1'), counted, batch);
    await processRecord(joined('n2'), counted, batch);
    await processRecord({ messageId: 'a', receiveCount: 1, body: encodeMessage(toFanoutMessage({ scope: 'all', cause: 'c', dedupId: 'a' })) }, counted, batch);
    await processRecord({ messageId: 's', receiveCount: 1, body: encodeMessage(toFanoutMessage({ scope: 'namespace', namespace: 'default', cause: 'c', dedupId: 's' })) }, counted, batch);
    expect(lists).toEqual([undefined, 'default']);
    // Node-scoped passes run in the fan-out (IMPL-9); the full ones are enqueued.
    expect(queue.requests.filter((r) => r.node !== undefined)).toEqual([]);
    expect(queue.requests).toHaveLength(2 + 3 + 3);

    const next = newBatchState();
    failNext = true;
    await expect(processRecord(joined('n3'), counted, next)).rejects.toThrow(/list failed/);
    await processRecord(joined('n3'), counted, next);
    expect(lists).toEqual([undefined, 'default', undefined, undefined]);
  });

  it('gives the node-scoped passes of a fan-out the DaemonSets as its list read them and one read of the node (IMPL-5)', async () => {
    const s = setup(3, 3);
    for (let i = 0; i < 3; i++) await s.settle(dsKey(i));
    s.server.putNode(plainNode('node-3'));
    s.ops.length = 0;
    const queue = new RecordingQueue();
    const d: BatchDeps = { ...deps(queue, s.reconcile), listDaemonSets: listDaemonSetsVia(s.cluster.session()) };
    const body = encodeMessage(toFanoutMessage({ scope: 'node', node: 'node-3', before: null, after: facts({}), cause: 'node node-3 create', dedupId: 'f1' }));
    expect(await processRecord({ messageId: 'm1', body, receiveCount: 1 }, d, newBatchState())).toEqual({ kind: 'fanout', keys: 3 });
    expect(new Set(s.podsOn('node-3').map((p) => p.metadata?.ownerReferences?.[0]?.uid)).size).toBe(3);
    // One DaemonSet list, one node read; per DaemonSet its bound and unbound pods and its revisions.
    const reads = s.ops.filter((op) => !WRITE_OPS.has(op));
    expect(reads.filter((op) => op === 'listDaemonSets')).toHaveLength(1);
    expect(reads.filter((op) => op === 'readDaemonSet')).toHaveLength(0);
    expect(reads.filter((op) => op === 'readNode')).toHaveLength(1);
    expect(reads).toHaveLength(1 + 1 + 3 * 3);
  });

  it('collapses a node-scoped pass into a full pass of the same key earlier in the batch, not the other way round', async () => {
    const seen: string[] = [];
    const d = deps(new RecordingQueue(), async (key, options) => {
      seen.push(`${key} ${options?.node ?? 'full'}`);
      return report(key);
    });
    const batch = newBatchState();
    const rec = (id: string, node?: string) => ({ messageId: id, receiveCount: 1, body: encodeMessage(toReconcileMessage({ key: 'default/a', dedupId: id, ...(node ? { node } : {}) })) });
    await processRecord(rec('1', 'n1'), d, batch);
    await processRecord(rec('2'), d, batch);
    await processRecord(rec('3', 'n1'), d, batch);
    await processRecord(rec('4', 'n2'), d, batch);
    expect(seen).toEqual(['default/a n1', 'default/a full']);
  });

  it('enqueues the full pass a node-scoped pass left to it, once per record, in the key\'s own group', async () => {
    const queue = new RecordingQueue();
    const d = deps(queue, async (key, options) => report(key, options?.node === undefined ? {} : { scope: 'node', fullPassNeeded: true }));
    const rec = (id: string) => ({ messageId: id, receiveCount: 1, body: encodeMessage(toReconcileMessage({ key: 'default/a', dedupId: id, node: 'n1', observedAt: 5 })) });
    await processRecord(rec('m1'), d, newBatchState());
    await processRecord(rec('m1'), d, newBatchState());
    expect(queue.requests).toHaveLength(2);
    expect(queue.requests[0]).toMatchObject({ key: 'default/a', observedAt: 5 });
    expect(queue.requests[0]?.node).toBeUndefined();
    expect(queue.requests[1]?.dedupId).toBe(queue.requests[0]?.dedupId);
    expect(requestGroupId(queue.requests[0]!)).toBe('default/a');
    expect(requestGroupId({ key: 'default/a', node: 'n1' })).toBe('default/a@n1');
    expect(queue.delayed).toEqual([]);
  });

  it('passes the DaemonSet\'s label selector on to its node-scoped passes, through the message codec', async () => {
    const queue = new RecordingQueue();
    const body = encodeMessage(toFanoutMessage({ scope: 'node', node: 'n1', before: null, after: facts({ role: 'daemon' }), cause: 'node n1 create', dedupId: 'f1' }));
    const given: (string | undefined)[] = [];
    // A pass that failed is retried from the queue: its message carries the selector too.
    await processRecord({ messageId: 'm1', body, receiveCount: 1 }, deps(queue, async (key, options) => {
      given.push(`${key} ${options?.labelSelector}`);
      throw new TransientError('retry me');
    }), newBatchState());
    expect(given).toEqual(['default/wanted app=a', 'default/everywhere app=b']);
    const wantedPass = queue.requests.find((r) => r.key === 'default/wanted');
    expect(wantedPass).toMatchObject({ node: 'n1', labelSelector: 'app=a' });
    expect(decodeMessage(encodeMessage(toReconcileMessage(wantedPass!)))).toMatchObject({ node: 'n1', labelSelector: 'app=a' });
    expect(() => decodeMessage(JSON.stringify({ v: 1, type: 'reconcile', key: 'default/a', dedupId: 'd', labelSelector: 'app=a' }))).toThrow(/labelSelector/);
    const seen: (string | undefined)[] = [];
    await processRecord({ messageId: 'm2', receiveCount: 1, body: encodeMessage(toReconcileMessage(wantedPass!)) },
      deps(new RecordingQueue(), async (key, options) => { seen.push(options?.labelSelector); return report(key); }), newBatchState());
    expect(seen).toEqual(['app=a']);
  });

  it('carries the node through the message codec and refuses a node name the API could not hold', () => {
    expect(decodeMessage(encodeMessage(toReconcileMessage({ key: 'default/a', dedupId: 'd', node: 'ip-10-0-0-1.ec2.internal' })))).toMatchObject({ node: 'ip-10-0-0-1.ec2.internal' });
    expect(() => decodeMessage(JSON.stringify({ v: 1, type: 'reconcile', key: 'default/a', dedupId: 'd', node: 'Bad_Node' }))).toThrow(/node/);
    const f = decodeMessage(encodeMessage(toFanoutMessage({ scope: 'node', node: 'n1', before: null, after: facts({ a: 'b' }, [{ key: 'k', value: '', effect: 'NoSchedule', timeAdded: '2026-01-01T00:00:00Z' }]), cause: 'c', dedupId: 'f' })));
    expect(f).toMatchObject({ scope: 'node', before: null, after: { labels: { a: 'b' }, taints: [{ key: 'k', value: '', effect: 'NoSchedule', timeAdded: '2026-01-01T00:00:00Z' }] } });
  });
});
