/**
 * ControllerRevision history (§10): matching by content, the current revision, de-duplication,
 * revision bumps (rollback), hash collisions and history cleanup.
 */
import type { V1ControllerRevision, V1DaemonSet, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { computeTemplateHash } from './hash.js';
import { CONTROLLER_REVISION_HASH_LABEL, FAILED_POD_BACKOFF_ANNOTATION } from './labels.js';
import { canonicalJson, sameJson, type JsonValue } from './canonical-json.js';
import { labelsOf } from './objects.js';
import { controllerRefFor } from './ownership.js';
import type { PodLabelChange, RevisionPlan, RevisionToDelete, RevisionUpdate } from './types.js';

/** Upper bound on collision-count bumps within one pass (each bump needs a taken name). */
const MAX_COLLISION_BUMPS = 1000;

/**
 * The data a ControllerRevision stores for a DaemonSet (HIST-3), mirroring `getPatch`:
 * `{"spec":{"template":{"$patch":"replace", ...template}}}` with keys sorted at every level and,
 * like Go's encoder, `"creationTimestamp":null` in the template metadata.
 */
export function buildRevisionData(ds: V1DaemonSet): JsonValue {
  const template = canonicalJson(ds.spec?.template ?? {});
  const t = (template !== null && typeof template === 'object' && !Array.isArray(template) ? template : {}) as { [k: string]: JsonValue };
  const meta = (t['metadata'] !== undefined && typeof t['metadata'] === 'object' ? t['metadata'] : {}) as { [k: string]: JsonValue };
  return canonicalJson({ spec: { template: { ...t, $patch: 'replace', metadata: { creationTimestamp: null, ...meta } } } }, { keepNulls: true });
}

/** Parses revision data that may arrive as an object or as JSON text. */
function revisionDataOf(cr: V1ControllerRevision): unknown {
  const data: unknown = cr.data;
  if (typeof data === 'string') {
    try {
      return JSON.parse(data) as unknown;
    } catch {
      return undefined;
    }
  }
  return data;
}

/**
 * HIST-4: the revision stores this DaemonSet's current template. Compared as JSON values (key
 * order, absent vs null, whitespace do not matter), as plan-cli.md specifies. Mirrors `Match`.
 */
export function revisionMatchesDaemonSet(revision: V1ControllerRevision, ds: V1DaemonSet): boolean {
  const data = revisionDataOf(revision);
  if (data === undefined || data === null) return false;
  return sameJson(data, buildRevisionData(ds));
}

/**
 * Whether two revisions store the same data, compared as `revisionMatchesDaemonSet` compares (an
 * existing revision met on create is the planned one unless this is false: a hash collision).
 */
export function sameRevisionData(a: V1ControllerRevision, b: V1ControllerRevision): boolean {
  const data = revisionDataOf(a);
  return data !== undefined && data !== null && sameJson(data, revisionDataOf(b));
}

/**
 * The pod template a revision stores (the inverse of `buildRevisionData`), or undefined when its
 * data holds none. Used to re-create a held node's pod at the revision it had (CTL-6).
 */
export function revisionTemplate(revision: V1ControllerRevision): V1PodTemplateSpec | undefined {
  const data = revisionDataOf(revision) as { spec?: { template?: Record<string, unknown> } } | undefined;
  const stored = data?.spec?.template;
  if (stored === undefined || stored === null || typeof stored !== 'object') return undefined;
  const { $patch: _patch, ...template } = stored;
  const metadata = template['metadata'] as Record<string, unknown> | undefined;
  if (metadata && metadata['creationTimestamp'] === null) {
    const { creationTimestamp: _ts, ...rest } = metadata;
    template['metadata'] = rest;
  }
  return template as V1PodTemplateSpec;
}

/** The revision's hash label, or its name when the label is missing (HIST-2). */
export function revisionHash(revision: V1ControllerRevision): string {
  return labelsOf(revision.metadata)[CONTROLLER_REVISION_HASH_LABEL] ?? revision.metadata?.name ?? '';
}

/** Input of `planHistory`. */
export interface HistoryInput {
  readonly ds: V1DaemonSet;
  /** Revisions the DaemonSet owns after claiming (including those it adopts this pass). */
  readonly owned: readonly V1ControllerRevision[];
  /** Names of every ControllerRevision in the namespace (for collision detection). */
  readonly takenNames: ReadonlySet<string>;
  /** The DaemonSet's claimed pods (relabelled on de-duplication). */
  readonly pods: readonly V1Pod[];
}

/** What `planHistory` decides: the revision plan's current revision, create and updates, with the duplicates kept apart. */
export interface HistoryPlan extends Omit<RevisionPlan, 'delete'> {
  readonly duplicates: readonly RevisionToDelete[];
  readonly podLabelChanges: readonly PodLabelChange[];
  /** Non-current owned revisions (input of cleanup). */
  readonly old: readonly V1ControllerRevision[];
  /** The collision count to store in status (raised when the natural name was taken). */
  readonly collisionCount: number | undefined;
}

/**
 * Mirrors `constructHistory` (+ `snapshot`, `dedupCurHistories`):
 * 1. back-fill missing hash labels with the revision name (HIST-2);
 * 2. split owned revisions into current candidates (content match) and old (HIST-5);
 * 3. none current → a new revision named `<ds>-<hash>` with revision = max(old)+1; when that name
 *    is already taken by another object, raise collisionCount and rehash (HIST-7, done within
 *    the pass instead of over two passes);
 * 4. several current → keep the highest revision (ties: the last by name), relabel every claimed
 *    pod whose hash differs to the kept hash, delete the others (HIST-8);
 * 5. bump the current revision's number to max(old)+1 when lower (HIST-9, rollback).
 */
export function planHistory(input: HistoryInput): HistoryPlan {
  const { ds } = input;
  const ns = ds.metadata?.namespace ?? '';
  const updates = new Map<string, { uid: string; labels?: Record<string, string>; revision?: number }>();
  const current: V1ControllerRevision[] = [];
  const old: V1ControllerRevision[] = [];
  const sorted = [...input.owned].sort((a, b) => cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  for (const cr of sorted) {
    const name = cr.metadata?.name ?? '';
    if (labelsOf(cr.metadata)[CONTROLLER_REVISION_HASH_LABEL] === undefined) {
      updates.set(name, { uid: cr.metadata?.uid ?? '', labels: { ...labelsOf(cr.metadata), [CONTROLLER_REVISION_HASH_LABEL]: name } });
    }
    if (revisionMatchesDaemonSet(cr, ds)) current.push(cr);
    else old.push(cr);
  }
  const nextRevision = old.reduce((m, cr) => Math.max(m, cr.revision ?? 0), 0) + 1;
  let collisionCount = ds.status?.collisionCount ?? undefined;

  let create: V1ControllerRevision | null = null;
  let currentName: string;
  let currentHash: string;
  let currentRevision: number;
  const duplicates: RevisionToDelete[] = [];
  const podLabelChanges: PodLabelChange[] = [];

  if (current.length === 0) {
    let hash = computeTemplateHash(ds.spec?.template ?? {}, collisionCount);
    for (let i = 0; i < MAX_COLLISION_BUMPS && input.takenNames.has(revisionName(ds, hash)); i++) {
      collisionCount = (collisionCount ?? 0) + 1;
      hash = computeTemplateHash(ds.spec?.template ?? {}, collisionCount);
    }
    currentName = revisionName(ds, hash);
    currentHash = hash;
    currentRevision = nextRevision;
    create = buildRevision(ds, currentName, hash, nextRevision);
  } else {
    let keep = current[0] as V1ControllerRevision;
    for (const cr of current) if ((cr.revision ?? 0) >= (keep.revision ?? 0)) keep = cr;
    currentName = keep.metadata?.name ?? '';
    currentHash = revisionHash(keep);
    currentRevision = Math.max(keep.revision ?? 0, nextRevision);
    if (current.length > 1) {
      for (const pod of input.pods) {
        if (labelsOf(pod.metadata)[CONTROLLER_REVISION_HASH_LABEL] === currentHash) continue;
        const uid = pod.metadata?.uid ?? '';
        podLabelChanges.push({
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? ns,
          uid,
          labels: { [CONTROLLER_REVISION_HASH_LABEL]: currentHash },
          patch: { metadata: { labels: { [CONTROLLER_REVISION_HASH_LABEL]: currentHash }, uid } },
        });
      }
      for (const cr of current) {
        if (cr === keep) continue;
        duplicates.push({ name: cr.metadata?.name ?? '', namespace: cr.metadata?.namespace ?? ns, uid: cr.metadata?.uid ?? '', reason: 'duplicate' });
      }
    }
    if ((keep.revision ?? 0) < nextRevision) {
      const prev = updates.get(currentName) ?? { uid: keep.metadata?.uid ?? '' };
      updates.set(currentName, { ...prev, revision: nextRevision });
    }
  }

  const dupNames = new Set(duplicates.map((d) => d.name));
  const update: RevisionUpdate[] = [...updates.entries()]
    .filter(([name]) => !dupNames.has(name))
    .map(([name, u]) => {
      const patch: Record<string, unknown> = { metadata: { uid: u.uid, ...(u.labels ? { labels: { [CONTROLLER_REVISION_HASH_LABEL]: name } } : {}) } };
      if (u.revision !== undefined) patch['revision'] = u.revision;
      return { name, namespace: ns, uid: u.uid, ...(u.revision !== undefined ? { revision: u.revision } : {}), ...(u.labels ? { labels: u.labels } : {}), patch };
    });

  return { currentName, currentHash, currentRevision, create, update, duplicates, podLabelChanges, old, collisionCount };
}

/** `<ds name>-<hash>`, the name upstream gives a revision. */
export function revisionName(ds: V1DaemonSet, hash: string): string {
  return `${ds.metadata?.name ?? ''}-${hash}`;
}

/**
 * The ControllerRevision to create (HIST-6): template labels + hash label, a copy of the
 * DaemonSet's annotations (without the back-off record), a controller ref, the HIST-3 data.
 */
export function buildRevision(ds: V1DaemonSet, name: string, hash: string, revision: number): V1ControllerRevision {
  const annotations = { ...(ds.metadata?.annotations ?? {}) };
  delete annotations[FAILED_POD_BACKOFF_ANNOTATION];
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name,
      namespace: ds.metadata?.namespace ?? '',
      labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [controllerRefFor(ds)],
    },
    data: buildRevisionData(ds),
    revision,
  };
}

/**
 * HIST-11, mirrors `cleanupHistory`: delete old revisions beyond `limit`, oldest revision first,
 * skipping any whose hash a live pod still carries (`liveHashes` must include terminal pods being
 * deleted). The current revision is never in `old`.
 */
export function planHistoryCleanup(old: readonly V1ControllerRevision[], limit: number, liveHashes: ReadonlySet<string>): RevisionToDelete[] {
  let toKill = old.length - limit;
  if (toKill <= 0) return [];
  const out: RevisionToDelete[] = [];
  const byRevision = [...old].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  for (const cr of byRevision) {
    if (toKill <= 0) break;
    if (liveHashes.has(labelsOf(cr.metadata)[CONTROLLER_REVISION_HASH_LABEL] ?? cr.metadata?.name ?? '')) continue;
    out.push({ name: cr.metadata?.name ?? '', namespace: cr.metadata?.namespace ?? '', uid: cr.metadata?.uid ?? '', reason: 'history-limit' });
    toKill--;
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
