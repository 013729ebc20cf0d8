/**
 * Turns a parsed webhook body (AdmissionReview v1, audit.k8s.io/v1 EventList, a watch event
 * `{type, object}` or an array of watch events) into normalized ObjectEvents.
 *
 * Results are values: `{ ok: false, status, reason }` says why the body was refused
 * (400 = wrong shape or types, 422 = well-formed but unusable).
 */
import * as z from 'zod';
import {
  admissionEnvelopeSchema, admissionReviewSchema, auditEventListSchema, kubeObjectSchema, watchEventSchema,
  WATCH_MAX_ITEMS, type AuditEventInput, type KubeObjectInput,
} from './schemas.js';
import type { ObjectEvent, ObjectSummary, Operation } from './types.js';

export type ParsedBody =
  | { readonly kind: 'admission'; readonly uid: string; readonly dryRun: boolean; readonly events: readonly ObjectEvent[] }
  | { readonly kind: 'audit'; readonly events: readonly ObjectEvent[]; readonly skipped: number }
  | { readonly kind: 'watch'; readonly events: readonly ObjectEvent[]; readonly skipped: number };

export type ParseResult =
  | { readonly ok: true; readonly body: ParsedBody }
  | { readonly ok: false; readonly status: 400 | 422; readonly reason: string };

/** Kinds whose objects the mapping reads; other kinds are mapped to nothing without validation. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const RELEVANT_KINDS = new Set(['Pod', 'Node', 'DaemonSet']);
const AUDIT_RESOURCE_KIND: Readonly<Record<string, string>> = { pods: 'Pod', nodes: 'Node', daemonsets: 'DaemonSet' };
const AUDIT_WRITE_VERBS: Readonly<Record<string, Operation>> = {
  create: 'create', update: 'update', patch: 'update', delete: 'delete', deletecollection: 'delete',
};

/** `{apiVersion, uid}` of an AdmissionReview, even when the rest of it is unusable; null otherwise. */
export function peekAdmission(value: unknown): { apiVersion: string; uid: string } | null {
  const env = admissionEnvelopeSchema.safeParse(value);
  return env.success ? { apiVersion: env.data.apiVersion, uid: env.data.request.uid } : null;
}

const describe = (error: z.ZodError): string => {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const path = issue.path.map(String).join('.');
  return `${path === '' ? '(root)' : path}: ${issue.message}`;
};

class Refused extends Error {
  constructor(readonly status: 400 | 422, reason: string) { super(reason); }
}

function summarize(value: unknown, where: string): ObjectSummary | null {
  if (value === undefined || value === null) return null;
  // JSON.parse makes "__proto__" an own key; zod drops it silently, so refuse it here.
  const labels = (value as { metadata?: { labels?: unknown } }).metadata?.labels;
  if (typeof labels === 'object' && labels !== null && Object.keys(labels).some((k) => RESERVED_KEYS.has(k))) {
    throw new Refused(400, `${where}.metadata.labels: reserved key`);
  }
  const parsed = kubeObjectSchema.safeParse(value);
  if (!parsed.success) throw new Refused(400, `${where}.${describe(parsed.error)}`);
  return toSummary(parsed.data);
}

function toSummary(o: KubeObjectInput): ObjectSummary {
  const m = o.metadata;
  return {
    name: m.name ?? undefined,
    namespace: m.namespace ?? undefined,
    uid: m.uid ?? undefined,
    resourceVersion: m.resourceVersion ?? undefined,
    labels: m.labels ?? {},
    ownerReferences: (m.ownerReferences ?? []).map((r) => ({ ...r, controller: r.controller ?? undefined })),
    deletionTimestamp: m.deletionTimestamp ?? undefined,
    taints: (o.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? undefined, effect: t.effect, timeAdded: t.timeAdded ?? undefined })),
  };
}

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

export function parseWebhookBody(value: unknown): ParseResult {
  try {
    return { ok: true, body: classify(value) };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, status: e.status, reason: e.message };
    throw e;
  }
}

function classify(value: unknown): ParsedBody {
  if (Array.isArray(value)) return parseWatchEvents(value);
  if (typeof value !== 'object' || value === null) throw new Refused(400, 'body must be a JSON object or array');
  const v = value as Record<string, unknown>;
  if (v.kind === 'AdmissionReview') return parseAdmission(value);
  if (v.kind === 'EventList') return parseAudit(value);
  if ('type' in v && 'object' in v) return parseWatchEvents([value]);
  throw new Refused(400, 'unrecognized body: expected an AdmissionReview, an audit EventList or a watch event');
}

function parseAdmission(value: unknown): ParsedBody {
  const parsed = admissionReviewSchema.safeParse(value);
  if (!parsed.success) throw new Refused(400, `AdmissionReview ${describe(parsed.error)}`);
  const r = parsed.data.request;
  const dryRun = r.dryRun === true;
  if (dryRun || r.operation === 'CONNECT' || !RELEVANT_KINDS.has(r.kind.kind)) {
    return { kind: 'admission', uid: r.uid, dryRun, events: [] };
  }
  const object = summarize(r.object, 'request.object');
  const oldObject = summarize(r.oldObject, 'request.oldObject');
  const operation: Operation = r.operation === 'CREATE' ? 'create' : r.operation === 'UPDATE' ? 'update' : 'delete';
  const current = object ?? oldObject;
  const subresource = r.subResource ?? '';
  const event: ObjectEvent = {
    source: 'admission',
    operation,
    group: r.kind.group,
    kind: r.kind.kind,
    subresource,
    namespace: r.namespace ?? current?.namespace ?? '',
    name: r.name !== undefined && r.name !== null && r.name !== '' ? r.name : current?.name ?? '',
    object: operation === 'delete' ? null : object,
    oldObject,
    identity: ['admission', current?.uid ?? r.uid, current?.resourceVersion ?? '', operation, subresource].join('|'),
  };
  return { kind: 'admission', uid: r.uid, dryRun: false, events: [event] };
}

function parseAudit(value: unknown): ParsedBody {
  const parsed = auditEventListSchema.safeParse(value);
  if (!parsed.success) throw new Refused(400, `EventList ${describe(parsed.error)}`);
  const events: ObjectEvent[] = [];
  let skipped = 0;
  parsed.data.items.forEach((item, index) => {
    const event = auditToEvent(item, index);
    if (event === null) skipped += 1;
    else events.push(event);
  });
  return { kind: 'audit', events, skipped };
}

/**
 * One audit event → one ObjectEvent, or null when it cannot have changed anything: a stage other
 * than ResponseComplete, a read verb, a failed request, or a resource the mapping does not read.
 */
function auditToEvent(item: AuditEventInput, index: number): ObjectEvent | null {
  const ref = item.objectRef;
  const operation = AUDIT_WRITE_VERBS[item.verb];
  if (item.stage !== 'ResponseComplete' || operation === undefined || ref === null || ref === undefined) return null;
  const code = item.responseStatus?.code;
  if (typeof code === 'number' && (code < 200 || code >= 300)) return null;
  const kind = AUDIT_RESOURCE_KIND[ref.resource ?? ''];
  if (kind === undefined) return null;
  // The response carries the stored object for create/update/patch (RequestResponse level); a
  // patch's requestObject is the patch, not the object, so only a create's requestObject is used.
  const fromResponse = operation !== 'delete' ? summarizeAudit(item.responseObject, index, 'responseObject') : null;
  const object = fromResponse ?? (item.verb === 'create' ? summarizeAudit(item.requestObject, index, 'requestObject') : null);
  return {
    source: 'audit',
    operation,
    group: ref.apiGroup ?? '',
    kind,
    subresource: ref.subresource ?? '',
    namespace: ref.namespace ?? object?.namespace ?? '',
    name: ref.name ?? object?.name ?? '',
    object,
    oldObject: null,
    identity: ['audit', item.auditID].join('|'),
  };
}

/** Audit responseObjects may be Status objects (deletes) or partial; only real objects are used. */
function summarizeAudit(value: unknown, index: number, field: string): ObjectSummary | null {
  if (typeof value !== 'object' || value === null) return null;
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'Status' || !('metadata' in value)) return null;
  return summarize(value, `items.${index}.${field}`);
}

function parseWatchEvents(values: readonly unknown[]): ParsedBody {
  if (values.length === 0) throw new Refused(400, 'empty list of watch events');
  if (values.length > WATCH_MAX_ITEMS) throw new Refused(400, `more than ${WATCH_MAX_ITEMS} watch events`);
  const events: ObjectEvent[] = [];
  let skipped = 0;
  values.forEach((value, index) => {
    const parsed = watchEventSchema.safeParse(value);
    if (!parsed.success) throw new Refused(400, `watch event ${index}: ${describe(parsed.error)}`);
    const w = parsed.data;
    if (w.type === 'BOOKMARK' || w.type === 'ERROR') {
      skipped += 1;
      return;
    }
    if (typeof w.object !== 'object' || w.object === null || Array.isArray(w.object)) {
      throw new Refused(400, `watch event ${index}: object must be a Kubernetes object`);
    }
    const head = w.object as { apiVersion?: unknown; kind?: unknown };
    if (typeof head.apiVersion !== 'string' || typeof head.kind !== 'string') {
      throw new Refused(400, `watch event ${index}: object.apiVersion and object.kind must be strings`);
    }
    if (!RELEVANT_KINDS.has(head.kind)) {
      skipped += 1;
      return;
    }
    const object = summarize(w.object, `${index}.object`);
    const oldObject = summarize(w.oldObject, `${index}.oldObject`);
    const operation: Operation = w.type === 'ADDED' ? 'create' : w.type === 'MODIFIED' ? 'update' : 'delete';
    events.push({
      source: 'watch',
      operation,
      group: groupOf(head.apiVersion),
      kind: head.kind,
      subresource: '',
      namespace: object?.namespace ?? '',
      name: object?.name ?? '',
      object: operation === 'delete' ? null : object,
      oldObject: operation === 'delete' ? object : oldObject,
      identity: ['watch', object?.uid ?? '', object?.resourceVersion ?? '', w.type].join('|'),
    });
  });
  return { kind: 'watch', events, skipped };
}
