/**
 * Reading a `daemonless plan` snapshot (spec/plan-cli.md): a `v1` List or a multi-document
 * YAML/JSON stream of Nodes, Pods, DaemonSets and ControllerRevisions. Pure: text in, objects or
 * one error line out.
 */
import type { V1ControllerRevision, V1DaemonSet, V1Node, V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { validateDaemonSet, type Snapshot } from '../core/index.js';

/** The objects of a snapshot, by kind (other kinds are dropped). */
export interface SnapshotObjects {
  readonly daemonSets: readonly V1DaemonSet[];
  readonly nodes: readonly V1Node[];
  readonly pods: readonly V1Pod[];
  readonly revisions: readonly V1ControllerRevision[];
}

/** A problem with the input: one line naming the object and the problem (exit status 2). */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Kinds of DaemonSet accepted: apps/v1 and any group's `DaemonSet` with the same schema. */
const DAEMONSET_KIND = 'DaemonSet';

/**
 * Parses snapshot text (YAML or JSON; one List, one object, or a stream of them; `*List` kinds
 * with `items` are flattened). Throws `SnapshotError` for text that is not YAML/JSON, an object
 * without `kind` or `metadata`, or a DaemonSet that fails API validation. Objects without a
 * namespace are taken to be in `default`.
 */
export function parseSnapshot(text: string, source: string): SnapshotObjects {
  const docs = parseAllDocuments(text);
  const values: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const err = doc.errors[0];
    if (err) throw new SnapshotError(`${source}: not valid YAML or JSON: ${oneLine(err.message)}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    values.push(value);
  }
  const flat: Raw[] = [];
  const visit = (value: unknown, where: string): void => {
    if (!isObject(value)) throw new SnapshotError(`${source}: ${where} is not an object`);
    const kind = value['kind'];
    if (typeof kind !== 'string' || kind === '') throw new SnapshotError(`${source}: ${where} has no kind`);
    if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value['items']))) {
      const items = value['items'];
      if (!Array.isArray(items)) throw new SnapshotError(`${source}: ${where} (${kind}) has no items list`);
      items.forEach((item, i) => visit(item, `${where}.items[${i}]`));
      return;
    }
    if (!isObject(value['metadata'])) throw new SnapshotError(`${source}: ${where} (${kind}) has no metadata`);
    flat.push(value);
  };
  values.forEach((v, i) => visit(v, values.length === 1 ? 'document' : `document ${i + 1}`));

  const daemonSets: V1DaemonSet[] = [];
  const nodes: V1Node[] = [];
  const pods: V1Pod[] = [];
  const revisions: V1ControllerRevision[] = [];
  for (const obj of flat) {
    const kind = obj['kind'] as string;
    const meta = obj['metadata'] as Raw;
    const name = typeof meta['name'] === 'string' ? meta['name'] : '';
    if (kind === 'Node') {
      nodes.push(obj as V1Node);
      continue;
    }
    const namespaced = { ...obj, metadata: { ...meta, namespace: typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? meta['namespace'] : 'default' } };
    if (kind === 'Pod') pods.push(namespaced as V1Pod);
    else if (kind === 'ControllerRevision') revisions.push(namespaced as V1ControllerRevision);
    else if (kind === DAEMONSET_KIND) {
      const ds = namespaced as V1DaemonSet;
      const problems = validateDaemonSet(ds);
      const first = problems[0];
      if (first) {
        const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
        throw new SnapshotError(`DaemonSet ${ds.metadata?.namespace}/${name || '<no name>'}: ${first.field}: ${first.message}${more}`);
      }
      daemonSets.push(ds);
    }
  }
  return { daemonSets, nodes, pods, revisions };
}

/** The per-DaemonSet snapshots (nodes: all; pods and revisions: the DaemonSet's namespace). */
export function snapshotsOf(objects: SnapshotObjects): Snapshot[] {
  return [...objects.daemonSets]
    .sort((a, b) => cmp(a.metadata?.namespace ?? '', b.metadata?.namespace ?? '') || cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''))
    .map((ds) => ({
      daemonSet: ds,
      nodes: objects.nodes,
      pods: objects.pods.filter((p) => p.metadata?.namespace === ds.metadata?.namespace),
      revisions: objects.revisions.filter((r) => r.metadata?.namespace === ds.metadata?.namespace),
      complete: true,
    }));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function oneLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? text;
}
