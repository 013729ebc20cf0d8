/**
 * What kubectl prints for `rollout status|history|undo` of a DaemonSet, as pure functions over raw
 * API objects, so `daemonless rollout` says the same words (kubectl v1.35 polymorphichelpers:
 * DaemonSetStatusViewer, DaemonSetHistoryViewer + printHistory, DaemonSetRollbacker + findHistory;
 * describe.DescribePodTemplate; cli-runtime NamePrinter; text/tabwriter with padding 2).
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import type { V1ControllerRevision, V1DaemonSet } from '../../core/index.js';

/** `kubernetes.io/change-cause`, the annotation `rollout history` shows. */
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** The pod template annotation `rollout restart` sets. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** The group of a DaemonSet kind as kubectl names objects: `daemonset.apps/NAME`. */
export interface KindName {
  /** `daemonset.apps` or `daemonset.daemonless.io`. */
  readonly kind: string;
  /** `daemonsets.apps` or `daemonsets.daemonless.io` (the resource, as API errors name it). */
  readonly resource: string;
}

/** NamePrinter with an operation: `daemonset.apps/NAME OPERATION\n` (no space when there is none). */
export function nameLine(kind: KindName, name: string, operation: string): string {
  return `${kind.kind}/${name}${operation ? ` ${operation}` : ''}\n`;
}

/** The result of DaemonSetStatusViewer.Status. */
export type StatusView =
  | { readonly kind: 'progress'; readonly message: string; readonly done: boolean }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Mirrors DaemonSetStatusViewer.Status: OnDelete is an error; the generation must be observed;
 * then updated < desired, available < desired, or rolled out. Each message ends with a newline.
 */
export function daemonSetStatusView(ds: V1DaemonSet): StatusView {
  const type = ds.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (type !== 'RollingUpdate') return { kind: 'error', message: 'rollout status is only available for RollingUpdate strategy type' };
  const name = ds.metadata?.name ?? '';
  const s = ds.status;
  const generation = ds.metadata?.generation ?? 0;
  if (generation <= (s?.observedGeneration ?? 0)) {
    const desired = s?.desiredNumberScheduled ?? 0;
    const updated = s?.updatedNumberScheduled ?? 0;
    const available = s?.numberAvailable ?? 0;
    if (updated < desired) {
      return { kind: 'progress', done: false, message: `Waiting for daemon set ${goQuote(name)} rollout to finish: ${updated} out of ${desired} new pods have been updated...\n` };
    }
    if (available < desired) {
      return { kind: 'progress', done: false, message: `Waiting for daemon set ${goQuote(name)} rollout to finish: ${available} of ${desired} updated pods are available...\n` };
    }
    return { kind: 'progress', done: true, message: `daemon set ${goQuote(name)} successfully rolled out\n` };
  }
  return { kind: 'progress', done: false, message: 'Waiting for daemon set spec update to be observed...\n' };
}

/** Go's `%q` for the plain names Kubernetes allows (DNS labels): a double-quoted string. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** The ControllerRevisions kubectl counts as a DaemonSet's history: controlled by it (uid). */
export function controlledRevisions(ds: V1DaemonSet, revisions: readonly V1ControllerRevision[]): V1ControllerRevision[] {
  const uid = ds.metadata?.uid;
  return revisions.filter((r) => (r.metadata?.ownerReferences ?? []).some((o) => o.controller === true && o.uid === uid));
}

/** The pod template a revision restores: its data's `spec.template` without `$patch`. */
export function revisionTemplate(revision: V1ControllerRevision): V1PodTemplateSpec {
  const data = (typeof revision.data === 'string' ? JSON.parse(revision.data) : revision.data) as { spec?: { template?: Record<string, unknown> } } | undefined;
  const { $patch: _patch, ...template } = data?.spec?.template ?? {};
  // The stored template carries `metadata.creationTimestamp: null` (Go's zero time); leave it out.
  const meta = template['metadata'] as Record<string, unknown> | undefined;
  if (meta && meta['creationTimestamp'] === null) {
    const { creationTimestamp: _ts, ...rest } = meta;
    return { ...template, metadata: rest } as V1PodTemplateSpec;
  }
  return template as V1PodTemplateSpec;
}

/** The DaemonSet as it was at a revision (kubectl's applyDaemonSetHistory): the template replaced. */
export function daemonSetAtRevision(ds: V1DaemonSet, revision: V1ControllerRevision): V1DaemonSet {
  return { ...ds, spec: { ...(ds.spec as NonNullable<V1DaemonSet['spec']>), template: revisionTemplate(revision) } };
}

/**
 * Mirrors printHistory: `No rollout history found.` with no revisions; with `revision > 0` the pod
 * template of that revision (error when absent); else the REVISION / CHANGE-CAUSE table sorted by
 * revision. Revisions with the same number: the last one listed wins, as in kubectl's map.
 */
export function historyText(history: readonly V1ControllerRevision[], revision: number, ds: V1DaemonSet): { readonly text: string } | { readonly error: string } {
  const byRevision = new Map<number, V1ControllerRevision>();
  for (const h of history) byRevision.set(Number(h.revision ?? 0), h);
  if (byRevision.size === 0) return { text: 'No rollout history found.' };
  if (revision > 0) {
    const h = byRevision.get(revision);
    if (!h) return { error: 'unable to find the specified revision' };
    return { text: describePodTemplate(daemonSetAtRevision(ds, h).spec?.template) };
  }
  const rows = [...byRevision.keys()].sort((a, b) => a - b).map((r) => {
    const cause = byRevision.get(r)?.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
    return `${r}\t${cause ? cause : '<none>'}\n`;
  });
  return { text: tabbed(['REVISION\tCHANGE-CAUSE\n', ...rows].join('')) };
}

/**
 * `rollout history` as kubectl prints it: `daemonset.apps/NAME ` or `... with revision #N`, a
 * newline, the history text, and the NamePrinter's newline.
 */
export function historyOutput(kind: KindName, name: string, revision: number, text: string): string {
  const withRevision = revision > 0 ? `with revision #${revision}` : '';
  return `${kind.kind}/${name} ${withRevision}\n${text}\n`;
}

/** Mirrors findHistory: the revision with that number, or for 0 the second highest; else undefined. */
export function findRollbackRevision(toRevision: number, history: readonly V1ControllerRevision[]): V1ControllerRevision | undefined {
  if (toRevision === 0) {
    if (history.length <= 1) return undefined;
    const sorted = [...history].sort((a, b) => Number(a.revision ?? 0) - Number(b.revision ?? 0));
    return sorted[sorted.length - 2];
  }
  return history.find((h) => Number(h.revision ?? 0) === toRevision);
}

/** kubectl's revisionNotFoundErr. */
export function revisionNotFound(toRevision: number): string {
  return `unable to find specified revision ${toRevision} in history`;
}

/**
 * Go text/tabwriter as kubectl configures it (minwidth 0, padding 2, pad with spaces): every
 * tab-terminated cell is padded to its column's widest cell + 2 within each block of consecutive
 * lines that have that column; the text after the last tab of a line is not aligned.
 */
export function tabbed(text: string): string {
  const lines = text.split('\n');
  const cells = lines.map((l) => l.split('\t'));
  const out = cells.map((c) => [...c]);
  const maxCols = Math.max(0, ...cells.map((c) => c.length - 1));
  for (let col = 0; col < maxCols; col++) {
    let i = 0;
    while (i < cells.length) {
      if ((cells[i]?.length ?? 0) - 1 <= col) {
        i++;
        continue;
      }
      let j = i;
      let width = 0;
      while (j < cells.length && (cells[j]?.length ?? 0) - 1 > col) {
        width = Math.max(width, cells[j]?.[col]?.length ?? 0);
        j++;
      }
      for (let k = i; k < j; k++) {
        const row = out[k] as string[];
        row[col] = (row[col] ?? '').padEnd(width + 2);
      }
      i = j;
    }
  }
  return out.map((c) => c.join('')).join('\n');
}

type Container = NonNullable<NonNullable<V1PodTemplateSpec['spec']>['containers']>[number];
type Volume = NonNullable<NonNullable<V1PodTemplateSpec['spec']>['volumes']>[number];
type Toleration = NonNullable<NonNullable<V1PodTemplateSpec['spec']>['tolerations']>[number];

/**
 * describe.DescribePodTemplate, written through a plain PrefixWriter (no tabwriter: the tabs stay),
 * as `rollout history --revision N` and `rollout undo --dry-run=client` print it. Covers labels,
 * annotations, service account, init containers and containers (image, ports, host ports, command,
 * args, limits, requests, probes, env from, env, mounts), volumes (hostPath, emptyDir, secret,
 * configMap; others `<unknown>`), priority class, node selectors and tolerations.
 */
export function describePodTemplate(template: V1PodTemplateSpec | undefined): string {
  const out: string[] = [];
  const w = (level: number, s: string) => out.push('  '.repeat(level) + s);
  w(0, 'Pod Template:\n');
  if (!template) {
    w(1, '<unset>');
    return out.join('');
  }
  multiline(out, '  Labels', template.metadata?.labels);
  const annotations = Object.fromEntries(Object.entries(template.metadata?.annotations ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration'));
  if (Object.keys(template.metadata?.annotations ?? {}).length > 0) annotationsMultiline(out, '  Annotations', annotations);
  const spec = template.spec;
  if (spec?.serviceAccountName) w(1, `Service Account:\t${spec.serviceAccountName}\n`);
  if ((spec?.initContainers ?? []).length > 0) describeContainers(out, 'Init Containers', spec?.initContainers ?? []);
  describeContainers(out, 'Containers', spec?.containers ?? []);
  describeVolumes(out, spec?.volumes ?? []);
  if (spec?.priorityClassName) w(1, `Priority Class Name:\t${spec.priorityClassName}\n`);
  multiline(out, '  Node-Selectors', spec?.nodeSelector);
  tolerationsMultiline(out, '  Tolerations', spec?.tolerations ?? []);
  return out.join('');
}

function multiline(out: string[], title: string, labels: Readonly<Record<string, string>> | undefined): void {
  out.push(`${title}:\t`);
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) {
    out.push('<none>\n');
    return;
  }
  keys.forEach((k, i) => out.push(`${i === 0 ? '' : '\t'}${k}=${labels?.[k] ?? ''}\n`));
}

function annotationsMultiline(out: string[], title: string, annotations: Readonly<Record<string, string>>): void {
  out.push(`${title}:\t`);
  const keys = Object.keys(annotations).sort();
  if (keys.length === 0) {
    out.push('<none>\n');
    return;
  }
  keys.forEach((key, i) => {
    if (i !== 0) out.push('\t');
    const value = (annotations[key] ?? '').replace(/\n$/, '');
    if (value.length + key.length + 2 > 140 || value.includes('\n')) {
      out.push(`${key}:\n`);
      for (const s of value.split('\n')) out.push(`\t  ${s.length > 138 ? `${s.slice(0, 138)}...` : s}\n`);
    } else {
      out.push(`${key}: ${value}\n`);
    }
  });
}

function tolerationsMultiline(out: string[], title: string, tolerations: readonly Toleration[]): void {
  out.push(`${title}:\t`);
  if (tolerations.length === 0) {
    out.push('<none>\n');
    return;
  }
  const sorted = [...tolerations].sort((a, b) => ((a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0));
  sorted.forEach((t, i) => {
    let s = i === 0 ? '' : '\t';
    s += t.key ?? '';
    if (t.value) s += `=${t.value}`;
    if (t.effect) s += `:${t.effect}`;
    if (t.operator === 'Exists' && !t.value) s += t.key || t.effect ? ' op=Exists' : 'op=Exists';
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
    out.push(`${s}\n`);
  });
}

function describeContainers(out: string[], label: string, containers: readonly Container[]): void {
  const w = (level: number, s: string) => out.push('  '.repeat(level) + s);
  w(0, `  ${label}:${containers.length === 0 ? ' <none>' : ''}\n`);
  for (const c of containers) {
    w(1, ` ${c.name}:\n`);
    w(2, `Image:\t${c.image ?? ''}\n`);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`).join(', ');
    w(2, ports.includes(',') ? `Ports:\t${ports}\n` : `Port:\t${ports || '<none>'}\n`);
    const hostPorts = (c.ports ?? []).map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`).join(', ');
    w(2, hostPorts.includes(',') ? `Host Ports:\t${hostPorts}\n` : `Host Port:\t${hostPorts || '<none>'}\n`);
    const seccomp = c.securityContext?.seccompProfile;
    if (seccomp) {
      w(2, `SeccompProfile:\t${seccomp.type}\n`);
      if (seccomp.type === 'Localhost') w(3, `LocalhostProfile:\t${seccomp.localhostProfile ?? ''}\n`);
    }
    if ((c.command ?? []).length > 0) {
      w(2, 'Command:\n');
      for (const x of c.command ?? []) for (const s of x.split('\n')) w(3, `${s}\n`);
    }
    if ((c.args ?? []).length > 0) {
      w(2, 'Args:\n');
      for (const x of c.args ?? []) for (const s of x.split('\n')) w(3, `${s}\n`);
    }
    for (const [title, list] of [['Limits', c.resources?.limits], ['Requests', c.resources?.requests]] as const) {
      const names = Object.keys(list ?? {}).sort();
      if (names.length > 0) w(2, `${title}:\n`);
      for (const n of names) w(3, `${n}:\t${String(list?.[n])}\n`);
    }
    if (c.livenessProbe) w(2, `Liveness:\t${describeProbe(c.livenessProbe)}\n`);
    if (c.readinessProbe) w(2, `Readiness:\t${describeProbe(c.readinessProbe)}\n`);
    if (c.startupProbe) w(2, `Startup:\t${describeProbe(c.startupProbe)}\n`);
    if ((c.envFrom ?? []).length > 0) {
      w(2, 'Environment Variables from:\n');
      for (const e of c.envFrom ?? []) {
        const from = e.configMapRef ? 'ConfigMap' : e.secretRef ? 'Secret' : '';
        const name = e.configMapRef?.name ?? e.secretRef?.name ?? '';
        const optional = (e.configMapRef?.optional ?? e.secretRef?.optional) === true;
        w(3, e.prefix ? `${name}\t${from} with prefix '${e.prefix}'\tOptional: ${optional}\n` : `${name}\t${from}\tOptional: ${optional}\n`);
      }
    }
    w(2, `Environment:${(c.env ?? []).length === 0 ? '\t<none>' : ''}\n`);
    for (const e of c.env ?? []) {
      if (!e.valueFrom) {
        (e.value ?? '').split('\n').forEach((s, i) => w(3, i === 0 ? `${e.name}:\t${s}\n` : `\t${s}\n`));
      } else if (e.valueFrom.fieldRef) {
        w(3, `${e.name}:\t (${e.valueFrom.fieldRef.apiVersion ?? ''}:${e.valueFrom.fieldRef.fieldPath})\n`);
      } else if (e.valueFrom.resourceFieldRef) {
        w(3, `${e.name}:\t (${e.valueFrom.resourceFieldRef.resource})\n`);
      } else if (e.valueFrom.secretKeyRef) {
        w(3, `${e.name}:\t<set to the key '${e.valueFrom.secretKeyRef.key}' in secret '${e.valueFrom.secretKeyRef.name ?? ''}'>\tOptional: ${e.valueFrom.secretKeyRef.optional === true}\n`);
      } else if (e.valueFrom.configMapKeyRef) {
        w(3, `${e.name}:\t<set to the key '${e.valueFrom.configMapKeyRef.key}' of config map '${e.valueFrom.configMapKeyRef.name ?? ''}'>\tOptional: ${e.valueFrom.configMapKeyRef.optional === true}\n`);
      }
    }
    const mounts = [...(c.volumeMounts ?? [])].sort((a, b) => (a.mountPath < b.mountPath ? -1 : a.mountPath > b.mountPath ? 1 : 0));
    w(2, `Mounts:${mounts.length === 0 ? '\t<none>' : ''}\n`);
    for (const m of mounts) {
      const flags = [m.readOnly ? 'ro' : 'rw', ...(m.subPath ? [`path=${goQuote(m.subPath)}`] : [])];
      w(3, `${m.mountPath} from ${m.name} (${flags.join(',')})\n`);
    }
  }
}

function describeProbe(p: NonNullable<Container['livenessProbe']>): string {
  const attrs = `delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 0}s period=${p.periodSeconds ?? 0}s #success=${p.successThreshold ?? 0} #failure=${p.failureThreshold ?? 0}`;
  if (p.exec) return `exec [${(p.exec.command ?? []).join(' ')}] ${attrs}`;
  if (p.httpGet) {
    const port = String(p.httpGet.port ?? '');
    const host = port ? `${p.httpGet.host ?? ''}:${port}` : p.httpGet.host ?? '';
    return `http-get ${(p.httpGet.scheme ?? 'HTTP').toLowerCase()}://${host}${p.httpGet.path ?? ''} ${attrs}`;
  }
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host ?? ''}:${String(p.tcpSocket.port)} ${attrs}`;
  if (p.grpc) return `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ''} ${attrs}`;
  return `unknown ${attrs}`;
}

function describeVolumes(out: string[], volumes: readonly Volume[]): void {
  const w = (level: number, s: string) => out.push('  '.repeat(level) + s);
  if (volumes.length === 0) {
    w(0, '  Volumes:\t<none>\n');
    return;
  }
  w(0, '  Volumes:\n');
  for (const v of volumes) {
    w(1, ` ${v.name}:\n`);
    if (v.hostPath) {
      w(2, `Type:\tHostPath (bare host directory volume)\n    Path:\t${v.hostPath.path}\n    HostPathType:\t${v.hostPath.type ?? '<none>'}\n`);
    } else if (v.emptyDir) {
      const size = v.emptyDir.sizeLimit !== undefined && String(v.emptyDir.sizeLimit) !== '0' ? String(v.emptyDir.sizeLimit) : '<unset>';
      w(2, `Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t${v.emptyDir.medium ?? ''}\n    SizeLimit:\t${size}\n`);
    } else if (v.secret) {
      w(2, `Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t${v.secret.secretName ?? ''}\n    Optional:\t${v.secret.optional === true}\n`);
    } else if (v.configMap) {
      w(2, `Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t${v.configMap.name ?? ''}\n    Optional:\t${v.configMap.optional === true}\n`);
    } else {
      w(1, '<unknown>\n');
    }
  }
}

/** Go's `time.Now().Format(time.RFC3339)` in the local zone, as `rollout restart` writes it. */
export function goRfc3339Local(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -now.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}T${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}${zone}`;
}
