import type { V1ControllerRevision, V1DaemonSet } from '@kubernetes/client-node';
import { buildRevisionData, computeTemplateHash, CONTROLLER_REVISION_HASH_LABEL } from '../../lib/core/index.js';

/** The hash the planner gives a new revision of this DaemonSet's template (with its collision count). */
export function hashOf(ds: V1DaemonSet): string {
  return computeTemplateHash(ds.spec?.template ?? {}, ds.status?.collisionCount ?? undefined);
}

/**
 * Fluent ControllerRevision builder: revision(ds).number(3).hash(h).build(). Defaults: the
 * revision the planner would create for `ds` (name `<ds>-<hash>`, data = ds template, owned).
 */
export class RevisionBuilder {
  constructor(private readonly obj: V1ControllerRevision) {}

  private with(patch: (r: V1ControllerRevision) => void): RevisionBuilder {
    const copy = structuredClone(this.obj);
    patch(copy);
    return new RevisionBuilder(copy);
  }

  number(revision: number): RevisionBuilder {
    return this.with((r) => {
      r.revision = revision;
    });
  }

  name(name: string): RevisionBuilder {
    return this.with((r) => {
      r.metadata = { ...r.metadata, name, uid: `uid-cr-${name}` };
    });
  }

  hash(hash: string): RevisionBuilder {
    return this.with((r) => {
      r.metadata = { ...r.metadata, labels: { ...(r.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash } };
    });
  }

  withoutHashLabel(): RevisionBuilder {
    return this.with((r) => {
      delete r.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    });
  }

  data(data: unknown): RevisionBuilder {
    return this.with((r) => {
      r.data = structuredClone(data);
    });
  }

  orphan(): RevisionBuilder {
    return this.with((r) => {
      delete r.metadata?.ownerReferences;
    });
  }

  namespace(ns: string): RevisionBuilder {
    return this.with((r) => {
      r.metadata = { ...r.metadata, namespace: ns };
    });
  }

  build(): V1ControllerRevision {
    return structuredClone(this.obj);
  }
}

/** The revision the planner would create for `ds`, as revision 1. */
export function revision(ds: V1DaemonSet): RevisionBuilder {
  const hash = hashOf(ds);
  const name = `${ds.metadata?.name ?? ''}-${hash}`;
  return new RevisionBuilder({
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name,
      namespace: ds.metadata?.namespace ?? '',
      uid: `uid-cr-${name}`,
      labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata?.name ?? '', uid: ds.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    data: buildRevisionData(ds),
    revision: 1,
  });
}
