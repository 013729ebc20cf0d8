/**
 * `daemonless rollout ...` in-process against an in-memory cluster: kubectl's words (status viewer,
 * history table and template, rollbacker messages), the patches written, and the exit codes.
 */
import { describe, expect, it } from 'vitest';
import { runCli, liveSnapshotNotSupported, type CliIo } from '../../../lib/cli/cli.js';
import { KubectlError, type DaemonSetTarget, type RolloutCluster, type RolloutPatchType, type WatchEventType } from '../../../lib/adapters/kube/rollout-client.js';
import { daemonSetStatusView, describePodTemplate, historyText, tabbed } from '../../../lib/cli/rollout/kubectl-text.js';
import { parseRef } from '../../../lib/cli/rollout/ref.js';
import { hoistCommonFlags, parseGoDuration } from '../../../lib/cli/rollout/rollout-command.js';
import { buildRevisionData, type Snapshot, type V1ControllerRevision, type V1DaemonSet } from '../../../lib/core/index.js';
import { rolledAsFarAsControlsLet } from '../../builders/rollouts.js';
import type { World } from '../../builders/world.js';

const NOW = new Date('2024-05-01T10:00:00Z');

function ds(o: { name?: string; generation?: number; observed?: number; desired?: number; updated?: number; available?: number; image?: string; strategy?: string; apiVersion?: string } = {}): V1DaemonSet {
  return {
    apiVersion: o.apiVersion ?? 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: o.name ?? 'ds', namespace: 'default', uid: 'ds-uid', generation: o.generation ?? 1, resourceVersion: '10' },
    spec: {
      selector: { matchLabels: { app: 'ds' } },
      updateStrategy: { type: o.strategy ?? 'RollingUpdate' },
      template: { metadata: { labels: { app: 'ds' } }, spec: { containers: [{ name: 'main', image: o.image ?? 'nginx:1' }] } },
    },
    status: {
      currentNumberScheduled: o.desired ?? 2, numberMisscheduled: 0, numberReady: o.available ?? 2,
      desiredNumberScheduled: o.desired ?? 2, updatedNumberScheduled: o.updated ?? 2, numberAvailable: o.available ?? 2,
      observedGeneration: o.observed ?? o.generation ?? 1,
    },
  };
}

function revisionOf(d: V1DaemonSet, revision: number, cause?: string): V1ControllerRevision {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `ds-${revision}`, namespace: 'default', labels: { app: 'ds', 'controller-revision-hash': `h${revision}` },
      ...(cause ? { annotations: { 'kubernetes.io/change-cause': cause } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'ds-uid', controller: true }],
    },
    revision,
    data: buildRevisionData(d) as object,
  };
}

class FakeCluster implements RolloutCluster {
  readonly defaultNamespace = 'default';
  readonly patches: { target: DaemonSetTarget; body: unknown; type: RolloutPatchType }[] = [];
  onEvent: ((type: WatchEventType, d: V1DaemonSet) => void) | undefined;
  watched = 0;
  constructor(public ds: V1DaemonSet | null, public revisions: V1ControllerRevision[] = [], public snapshot?: Snapshot) {}
  async getDaemonSet(t: DaemonSetTarget): Promise<V1DaemonSet> {
    if (!this.ds) throw new KubectlError(`Error from server (NotFound): ${t.kind === 'native' ? 'daemonsets.apps' : 'daemonsets.daemonless.io'} "${t.name}" not found`);
    return structuredClone(this.ds);
  }
  async listRevisions(): Promise<V1ControllerRevision[]> {
    return structuredClone(this.revisions);
  }
  async patchDaemonSet(target: DaemonSetTarget, body: unknown, type: RolloutPatchType): Promise<V1DaemonSet> {
    this.patches.push({ target, body, type });
    return structuredClone(this.ds as V1DaemonSet);
  }
  async watchDaemonSet(_t: DaemonSetTarget, _rv: string, onEvent: (type: WatchEventType, d: V1DaemonSet) => void): Promise<() => void> {
    this.watched++;
    this.onEvent = onEvent;
    return () => undefined;
  }
  async readSnapshot(_t: DaemonSetTarget, d: V1DaemonSet): Promise<Snapshot> {
    return this.snapshot ?? { daemonSet: d, nodes: [], pods: [], revisions: this.revisions, complete: true };
  }
}

const v2Of = () => ds();

async function cli(argv: string[], cluster: FakeCluster, onConnect?: (o: unknown) => void): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    readFile: () => Promise.reject(new Error('no files')),
    readStdin: () => Promise.resolve(''),
    stdoutIsTty: false,
    now: () => NOW,
    readLiveSnapshot: liveSnapshotNotSupported,
    connect: (o) => {
      onConnect?.(o);
      return cluster;
    },
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

describe('kubectl text', () => {
  it('status view: spec update not observed, updated, available, rolled out, OnDelete', () => {
    expect(daemonSetStatusView(ds({ generation: 2, observed: 1 }))).toEqual({ kind: 'progress', done: false, message: 'Waiting for daemon set spec update to be observed...\n' });
    expect(daemonSetStatusView(ds({ desired: 4, updated: 1 }))).toEqual({ kind: 'progress', done: false, message: 'Waiting for daemon set "ds" rollout to finish: 1 out of 4 new pods have been updated...\n' });
    expect(daemonSetStatusView(ds({ desired: 4, updated: 4, available: 3 }))).toEqual({ kind: 'progress', done: false, message: 'Waiting for daemon set "ds" rollout to finish: 3 of 4 updated pods are available...\n' });
    expect(daemonSetStatusView(ds())).toEqual({ kind: 'progress', done: true, message: 'daemon set "ds" successfully rolled out\n' });
    expect(daemonSetStatusView(ds({ strategy: 'OnDelete' }))).toEqual({ kind: 'error', message: 'rollout status is only available for RollingUpdate strategy type' });
  });

  it('history table: sorted by revision, change cause or <none>, tabwriter padding 2', () => {
    const d = ds();
    const text = historyText([revisionOf(d, 10, 'kubectl apply --filename=x.yaml'), revisionOf(d, 2)], 0, d);
    expect(text).toEqual({ text: 'REVISION  CHANGE-CAUSE\n2         <none>\n10        kubectl apply --filename=x.yaml\n' });
    expect(historyText([], 0, d)).toEqual({ text: 'No rollout history found.' });
    expect(historyText([revisionOf(d, 1)], 3, d)).toEqual({ error: 'unable to find the specified revision' });
  });

  it('tabwriter aligns each column over the lines that have it', () => {
    expect(tabbed('A\tBB\tC\nAAAA\tB\tC\nonly\n')).toBe('A     BB  C\nAAAA  B   C\nonly\n');
  });

  it('pod template as describe prints it (tabs kept, no tabwriter)', () => {
    const text = describePodTemplate({
      metadata: { labels: { app: 'ds', tier: 'node' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } },
      spec: {
        containers: [{ name: 'main', image: 'nginx:1', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: 'b' }], volumeMounts: [{ name: 'logs', mountPath: '/var/log', readOnly: true }] }],
        volumes: [{ name: 'logs', hostPath: { path: '/var/log' } }],
        nodeSelector: { disktype: 'ssd' },
        tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }],
      },
    });
    expect(text).toBe([
      'Pod Template:',
      '  Labels:\tapp=ds',
      '\ttier=node',
      '  Annotations:\tkubectl.kubernetes.io/restartedAt: 2024-05-01T10:00:00Z',
      '  Containers:',
      '   main:',
      '    Image:\tnginx:1',
      '    Port:\t80/TCP',
      '    Host Port:\t0/TCP',
      '    Environment:',
      '      A:\tb',
      '    Mounts:',
      '      /var/log from logs (ro)',
      '  Volumes:',
      '   logs:',
      '    Type:\tHostPath (bare host directory volume)',
      '    Path:\t/var/log',
      '    HostPathType:\t<none>',
      '  Node-Selectors:\tdisktype=ssd',
      '  Tolerations:\tdedicated:NoSchedule op=Exists',
      '',
    ].join('\n'));
  });

  it('refs: native and dlds spellings, TYPE NAME, unknown types', () => {
    for (const r of ['ds/x', 'daemonset/x', 'daemonsets/x', 'daemonset.apps/x', 'DaemonSet.apps/x']) expect(parseRef(r, undefined)).toEqual({ ok: true, kind: 'native', name: 'x' });
    for (const r of ['dlds/x', 'daemonset.daemonless.io/x', 'daemonsets.daemonless.io/x']) expect(parseRef(r, undefined)).toEqual({ ok: true, kind: 'crd', name: 'x' });
    expect(parseRef('dlds', 'x')).toEqual({ ok: true, kind: 'crd', name: 'x' });
    expect(parseRef('deployment/x', undefined)).toEqual({ ok: false, usage: false, message: 'error: the server doesn\'t have a resource type "deployment"' });
    expect(parseRef('ds', undefined)).toMatchObject({ ok: false, usage: true });
  });

  it('Go durations', () => {
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('90s')).toBe(90_000);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('500ms')).toBe(500);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration('abc')).toBeUndefined();
  });
});

describe('daemonless rollout status', () => {
  it('--watch=false prints the current line once and exits 0, rolled out or not', async () => {
    const r = await cli(['rollout', 'status', 'ds/ds', '--watch=false'], new FakeCluster(ds({ desired: 3, updated: 1 })));
    expect(r).toEqual({ code: 0, out: 'Waiting for daemon set "ds" rollout to finish: 1 out of 3 new pods have been updated...\n', err: '' });
  });

  it('watches until the rollout is done, one line per event', async () => {
    const cluster = new FakeCluster(ds({ generation: 2, observed: 1 }));
    const run = cli(['rollout', 'status', 'daemonset.apps/ds'], cluster);
    while (!cluster.onEvent) await new Promise((r) => setTimeout(r, 5));
    cluster.onEvent('MODIFIED', ds({ generation: 2, desired: 2, updated: 1 }));
    cluster.onEvent('MODIFIED', ds({ generation: 2, desired: 2, updated: 2, available: 1 }));
    cluster.onEvent('MODIFIED', ds({ generation: 2 }));
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      'Waiting for daemon set spec update to be observed...',
      'Waiting for daemon set "ds" rollout to finish: 1 out of 2 new pods have been updated...',
      'Waiting for daemon set "ds" rollout to finish: 1 of 2 updated pods are available...',
      'daemon set "ds" successfully rolled out',
      '',
    ].join('\n'));
  });

  it('times out with kubectl\'s error and exit 1', async () => {
    const r = await cli(['rollout', 'status', 'ds/ds', '--timeout=50ms'], new FakeCluster(ds({ desired: 2, updated: 0 })));
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: timed out waiting for the condition\n');
  });

  it('an OnDelete DaemonSet, a deleted one, a missing one: exit 1 with kubectl\'s line', async () => {
    expect(await cli(['rollout', 'status', 'ds/ds'], new FakeCluster(ds({ strategy: 'OnDelete' })))).toEqual({ code: 1, out: '', err: 'error: rollout status is only available for RollingUpdate strategy type\n' });
    expect(await cli(['rollout', 'status', 'dlds/nope'], new FakeCluster(null))).toEqual({ code: 1, out: '', err: 'Error from server (NotFound): daemonsets.daemonless.io "nope" not found\n' });
    const cluster = new FakeCluster(ds({ desired: 2, updated: 0 }));
    const run = cli(['rollout', 'status', 'ds/ds'], cluster);
    while (!cluster.onEvent) await new Promise((r) => setTimeout(r, 5));
    cluster.onEvent('DELETED', ds());
    expect((await run).err).toBe('error: object has been deleted\n');
  });

  it('takes -n, --kubeconfig and --context before the command words too, as kubectl does', async () => {
    const cluster = new FakeCluster(v2Of());
    let seen: unknown;
    const r = await cli(['-n', 'team', '--context=c1', 'rollout', 'status', 'ds/ds'], cluster, (o) => (seen = o));
    expect(r.code).toBe(0);
    expect(seen).toEqual({ kubeconfig: undefined, context: 'c1' });
    expect(hoistCommonFlags(['-n', 'x', 'plan', '--file', 'f'])).toEqual(['-n', 'x', 'plan', '--file', 'f']);
    expect(hoistCommonFlags(['--kubeconfig', 'k', 'explain', 'ds/a'])).toEqual(['explain', 'ds/a', '--kubeconfig', 'k']);
  });

  it('usage errors exit 2 with the usage', async () => {
    const r = await cli(['rollout', 'status', 'ds/ds', '--timeout', 'soon'], new FakeCluster(ds()));
    expect(r.code).toBe(2);
    expect(r.err).toBe('error: invalid argument "soon" for "--timeout" flag: time: invalid duration "soon"\nUsage: daemonless rollout status [options] <ref> [name]\n');
    expect((await cli(['rollout', 'status'], new FakeCluster(ds()))).code).toBe(2);
    expect((await cli(['rollout', 'undo', 'ds/ds', '--to-revision', 'x'], new FakeCluster(ds()))).code).toBe(2);
  });
});

describe('daemonless rollout history / undo', () => {
  const v1 = ds({ image: 'nginx:1' });
  const v2 = ds({ image: 'nginx:2', generation: 2 });
  const history = [revisionOf(v1, 1), revisionOf(v2, 2, 'image 2')];

  it('history prints the table after the object name, as kubectl does', async () => {
    const r = await cli(['rollout', 'history', 'ds/ds'], new FakeCluster(v2, history));
    expect(r).toEqual({ code: 0, out: 'daemonset.apps/ds \nREVISION  CHANGE-CAUSE\n1         <none>\n2         image 2\n\n', err: '' });
    const crd = await cli(['rollout', 'history', 'dlds', 'ds'], new FakeCluster(v2, history));
    expect(crd.out.startsWith('daemonset.daemonless.io/ds \nREVISION')).toBe(true);
  });

  it('history --revision N prints that template; -o json the DaemonSet at each revision', async () => {
    const r = await cli(['rollout', 'history', 'ds/ds', '--revision', '1'], new FakeCluster(v2, history));
    expect(r.out).toBe(`daemonset.apps/ds with revision #1\n${describePodTemplate(v1.spec?.template)}\n`);
    expect(r.out).toContain('Image:\tnginx:1');
    const missing = await cli(['rollout', 'history', 'ds/ds', '--revision', '7'], new FakeCluster(v2, history));
    expect(missing).toEqual({ code: 1, out: '', err: 'error: unable to find the specified revision\n' });
    const json = await cli(['rollout', 'history', 'ds/ds', '-o', 'json', '--revision', '1'], new FakeCluster(v2, history));
    expect((JSON.parse(json.out) as V1DaemonSet).spec?.template.spec?.containers[0]?.image).toBe('nginx:1');
  });

  it('undo patches the previous revision: the revision data as a strategic merge patch (native)', async () => {
    const cluster = new FakeCluster(v2, history);
    expect(await cli(['rollout', 'undo', 'ds/ds'], cluster)).toEqual({ code: 0, out: 'daemonset.apps/ds rolled back\n', err: '' });
    expect(cluster.patches).toEqual([{ target: { kind: 'native', namespace: 'default', name: 'ds' }, body: history[0]?.data, type: 'strategic' }]);
  });

  it('undo of a dlds replaces spec.template with a JSON patch (CRDs take no strategic merge patch)', async () => {
    const cluster = new FakeCluster(ds({ image: 'nginx:2', apiVersion: 'daemonless.io/v1' }), history);
    expect((await cli(['rollout', 'undo', 'dlds/ds', '-n', 'team'], cluster)).out).toBe('daemonset.daemonless.io/ds rolled back\n');
    expect(cluster.patches[0]?.type).toBe('json');
    expect(cluster.patches[0]?.target).toEqual({ kind: 'crd', namespace: 'team', name: 'ds' });
    expect(cluster.patches[0]?.body).toEqual([{ op: 'replace', path: '/spec/template', value: v1.spec?.template }]);
  });

  it('undo: skipped when the template matches, --dry-run=client prints without writing, errors exit 1', async () => {
    const same = new FakeCluster(v2, history);
    expect((await cli(['rollout', 'undo', 'ds/ds', '--to-revision', '2'], same)).out).toBe('daemonset.apps/ds skipped rollback (current template already matches revision 2)\n');
    expect(same.patches).toEqual([]);
    const dry = new FakeCluster(v2, history);
    const r = await cli(['rollout', 'undo', 'ds/ds', '--dry-run=client'], dry);
    expect(r.out).toBe(`daemonset.apps/ds will roll back to ${describePodTemplate(v1.spec?.template)} (dry run)\n`);
    expect(dry.patches).toEqual([]);
    expect(await cli(['rollout', 'undo', 'ds/ds', '--to-revision', '9'], new FakeCluster(v2, history))).toEqual({ code: 1, out: '', err: 'error: unable to find specified revision 9 in history\n' });
    expect(await cli(['rollout', 'undo', 'ds/ds'], new FakeCluster(v2, [history[1] as V1ControllerRevision]))).toEqual({ code: 1, out: '', err: 'error: no last revision to roll back to\n' });
  });
});

describe('daemonless rollout restart / pause / resume', () => {
  it('restart sets the restartedAt template annotation', async () => {
    const cluster = new FakeCluster(ds());
    expect((await cli(['rollout', 'restart', 'ds/ds'], cluster)).out).toBe('daemonset.apps/ds restarted\n');
    const body = cluster.patches[0]?.body as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    expect(Date.parse(body.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'] ?? '')).toBe(NOW.getTime());
    expect(cluster.patches[0]?.type).toBe('strategic');
  });

  it('pause and resume: the annotation on a native DaemonSet, the field on a dlds', async () => {
    const native = new FakeCluster(ds());
    expect((await cli(['rollout', 'pause', 'ds/ds'], native)).out).toBe('daemonset.apps/ds paused\n');
    expect(native.patches[0]).toMatchObject({ body: { metadata: { annotations: { 'daemonless.io/rollout-paused': 'true' } } }, type: 'merge' });
    const paused = ds();
    paused.metadata = { ...paused.metadata, annotations: { 'daemonless.io/rollout-paused': 'true' } };
    expect((await cli(['rollout', 'pause', 'ds/ds'], new FakeCluster(paused))).out).toBe('daemonset.apps/ds already paused\n');
    const resumed = new FakeCluster(paused);
    expect((await cli(['rollout', 'resume', 'ds/ds'], resumed)).out).toBe('daemonset.apps/ds resumed\n');
    expect(resumed.patches[0]?.body).toEqual({ metadata: { annotations: { 'daemonless.io/rollout-paused': null } } });

    const crd = new FakeCluster(ds({ apiVersion: 'daemonless.io/v1' }));
    expect((await cli(['rollout', 'pause', 'dlds/ds'], crd)).out).toBe('daemonset.daemonless.io/ds paused\n');
    expect(crd.patches[0]?.body).toEqual({ spec: { updateStrategy: { rollingUpdate: { paused: true } } } });
    expect((await cli(['rollout', 'resume', 'dlds/ds'], new FakeCluster(ds()))).out).toBe('daemonset.daemonless.io/ds already resumed\n');
  });
});

describe('daemonless rollout status with rollout controls', () => {
  const held = rolledAsFarAsControlsLet;
  const clusterOf = (w: World) => new FakeCluster(w.ds, w.revisions as V1ControllerRevision[], { daemonSet: w.ds, nodes: w.nodes, pods: w.pods, revisions: w.revisions, complete: true });

  it('a partition that holds the rest ends with exit 0 and says how many it holds', async () => {
    const r = await cli(['rollout', 'status', 'ds/foo'], clusterOf(held({ 'daemonless.io/rollout-partition': '1' })));
    expect(r).toEqual({ code: 0, out: 'partitioned roll out complete: 2 new pods have been updated (1 held by partition)...\n', err: '' });
  });

  it('a paused rollout ends with exit 0 and says it is paused', async () => {
    const r = await cli(['rollout', 'status', 'ds/foo'], clusterOf(held({ 'daemonless.io/rollout-paused': 'true' })));
    expect(r).toEqual({ code: 0, out: 'rollout paused: 0 out of 3 new pods have been updated...\n', err: '' });
  });
});
