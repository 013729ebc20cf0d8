/**
 * zod 4 schemas of the three webhook payloads. Only the fields the mapping reads are kept (zod
 * objects strip unknown keys, so large pod specs are not copied). String lengths are bounded where
 * the API bounds them; list lengths are not (the API sets no limit on taints or owner references,
 * and the body limit bounds the work, which stays linear).
 */
import * as z from 'zod';

const short = (max: number) => z.string().max(max);

export const ownerReferenceSchema = z.object({
  apiVersion: short(317),
  kind: short(63),
  name: short(253),
  uid: short(128),
  controller: z.boolean().nullish(),
});

export const taintSchema = z.object({
  key: short(317),
  value: short(63).nullish(),
  effect: short(32),
  timeAdded: short(64).nullish(),
});

export const objectMetaSchema = z.object({
  name: short(253).nullish(),
  namespace: short(63).nullish(),
  uid: short(128).nullish(),
  resourceVersion: short(64).nullish(),
  labels: z.record(short(317), short(63)).nullish(),
  ownerReferences: z.array(ownerReferenceSchema).nullish(),
  deletionTimestamp: short(64).nullish(),
});

export const kubeObjectSchema = z.object({
  apiVersion: short(317).nullish(),
  kind: short(63).nullish(),
  metadata: objectMetaSchema,
  spec: z.object({ taints: z.array(taintSchema).nullish() }).nullish(),
});
export type KubeObjectInput = z.infer<typeof kubeObjectSchema>;

const gvk = z.object({ group: short(253), version: short(63), kind: short(63) });
const gvr = z.object({ group: short(253), version: short(63), resource: short(63) });

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export const admissionReviewSchema = z.object({
  apiVersion: z.literal(ADMISSION_API_VERSION),
  kind: z.literal('AdmissionReview'),
  request: z.object({
    /** Any string: it is only echoed back, as a JSON string (the answer's contract). */
    uid: z.string(),
    kind: gvk,
    resource: gvr,
    subResource: short(63).nullish(),
    name: short(253).nullish(),
    namespace: short(63).nullish(),
    operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
    object: z.unknown().optional(),
    oldObject: z.unknown().optional(),
    dryRun: z.boolean().nullish(),
  }),
});
export type AdmissionReviewInput = z.infer<typeof admissionReviewSchema>;

/** Only the envelope fields needed to answer an AdmissionReview whose request is otherwise unusable. */
export const admissionEnvelopeSchema = z.object({
  apiVersion: z.string().regex(/^admission\.k8s\.io\/v1(beta1)?$/),
  kind: z.literal('AdmissionReview'),
  request: z.object({ uid: z.string() }),
});

export const auditEventSchema = z.object({
  auditID: short(128).min(1),
  stage: short(64),
  verb: short(64),
  objectRef: z.object({
    resource: short(63).nullish(),
    namespace: short(63).nullish(),
    name: short(253).nullish(),
    apiGroup: short(253).nullish(),
    apiVersion: short(63).nullish(),
    subresource: short(63).nullish(),
  }).nullish(),
  responseStatus: z.object({ code: z.number().int().nullish() }).nullish(),
  requestObject: z.unknown().optional(),
  responseObject: z.unknown().optional(),
});

export const AUDIT_MAX_ITEMS = 10_000;
export const auditEventListSchema = z.object({
  apiVersion: z.literal('audit.k8s.io/v1'),
  kind: z.literal('EventList'),
  items: z.array(auditEventSchema).max(AUDIT_MAX_ITEMS),
});
export type AuditEventInput = z.infer<typeof auditEventSchema>;

export const watchEventSchema = z.object({
  type: z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']),
  object: z.unknown(),
  /** Not part of the Kubernetes watch protocol: forwarders may add the previous object. */
  oldObject: z.unknown().optional(),
});
export const WATCH_MAX_ITEMS = 1_000;
export type WatchEventInput = z.infer<typeof watchEventSchema>;
