/**
 * Queue message bodies (JSON, versioned with `v`). Small references only: a key or a fan-out
 * scope, never the objects of the event (SQS caps messages at 1 MiB, and objects can hold secrets).
 *
 * v1 types:
 * - `reconcile`: `{ v: 1, type: 'reconcile', key, dedupId, observedAt?, recheck?, node?, labelSelector? }` (node: a node-scoped pass)
 * - `fanout`:    `{ v: 1, type: 'fanout', scope: 'all' | 'namespace' | 'selector' | 'node', namespace?, labels?, node?, before?, after?, cause, dedupId, observedAt?, recheck? }`
 * - `delayed`:   `{ v: 1, type: 'delayed', dueAt, message: <reconcile> }` — only on the delay queue.
 */
import * as z from 'zod';
import type { FanoutRequest, NodeFacts, ReconcileRequest } from '../events/types.js';
import { InvalidMessageError } from './errors.js';

const key = z.string().min(3).max(63 + 1 + 253).regex(/^[a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*$/);
const id = z.string().min(1).max(128);
const observedAt = z.number().int().nonnegative().optional();
const recheck = z.literal(true).optional();

const nodeName = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
/** A node-scoped pass's label selector, as the fan-out listed the DaemonSet (see ReconcileRequest). */
export const MAX_LABEL_SELECTOR = 16_384;
const reconcileSchema = z.object({
  v: z.literal(1), type: z.literal('reconcile'), key, dedupId: id, observedAt, recheck, node: nodeName.optional(), labelSelector: z.string().min(1).max(MAX_LABEL_SELECTOR).optional(),
}).strict().refine((m) => m.labelSelector === undefined || m.node !== undefined, { message: 'labelSelector is for a node-scoped pass', path: ['labelSelector'] });
const namespace = z.string().min(1).max(63);
const labels = z.record(z.string().max(317), z.string().max(63));
const taint = z.object({ key: z.string().max(317), value: z.string().max(63).optional(), effect: z.string().max(64), timeAdded: z.string().max(64).optional() }).strict();
const nodeFacts = z.object({ labels, taints: z.array(taint).max(10_000) }).strict().nullable();
const fanoutSchema = z.discriminatedUnion('scope', [
  z.object({ v: z.literal(1), type: z.literal('fanout'), scope: z.literal('all'), cause: z.string().max(1024), dedupId: id, observedAt, recheck }).strict(),
  z.object({ v: z.literal(1), type: z.literal('fanout'), scope: z.literal('namespace'), namespace, cause: z.string().max(1024), dedupId: id, observedAt, recheck }).strict(),
  z.object({
    v: z.literal(1), type: z.literal('fanout'), scope: z.literal('selector'), namespace,
    labels, cause: z.string().max(1024), dedupId: id, observedAt, recheck,
  }).strict(),
  z.object({
    v: z.literal(1), type: z.literal('fanout'), scope: z.literal('node'), node: nodeName, before: nodeFacts, after: nodeFacts,
    cause: z.string().max(1024), dedupId: id, observedAt, recheck,
  }).strict(),
]);
const delayedSchema = z.object({ v: z.literal(1), type: z.literal('delayed'), dueAt: z.number().int().nonnegative(), message: reconcileSchema }).strict();

export type ReconcileMessage = z.infer<typeof reconcileSchema>;
export type FanoutMessage = z.infer<typeof fanoutSchema>;
export type DelayedMessage = z.infer<typeof delayedSchema>;
export type QueueMessage = ReconcileMessage | FanoutMessage | DelayedMessage;

export const toReconcileMessage = (r: ReconcileRequest): ReconcileMessage => ({
  v: 1, type: 'reconcile', key: r.key, dedupId: r.dedupId, ...(r.observedAt === undefined ? {} : { observedAt: r.observedAt }),
  ...(r.recheck ? { recheck: true as const } : {}), ...(r.node === undefined ? {} : { node: r.node }),
  ...(r.node === undefined || r.labelSelector === undefined ? {} : { labelSelector: r.labelSelector }),
});

export const toFanoutMessage = (f: FanoutRequest): FanoutMessage => {
  const common = {
    v: 1 as const, type: 'fanout' as const, cause: f.cause, dedupId: f.dedupId,
    ...(f.observedAt === undefined ? {} : { observedAt: f.observedAt }), ...(f.recheck ? { recheck: true as const } : {}),
  };
  switch (f.scope) {
    case 'all': return { ...common, scope: 'all' };
    case 'namespace': return { ...common, scope: 'namespace', namespace: f.namespace };
    case 'selector': return { ...common, scope: 'selector', namespace: f.namespace, labels: { ...f.labels } };
    case 'node': return { ...common, scope: 'node', node: f.node, before: factsMessage(f.before), after: factsMessage(f.after) };
  }
};

const factsMessage = (f: NodeFacts | null): z.infer<typeof nodeFacts> => (f === null ? null : {
  labels: { ...f.labels },
  taints: f.taints.map((t) => ({ key: t.key, effect: t.effect, ...(t.value === undefined ? {} : { value: t.value }), ...(t.timeAdded === undefined ? {} : { timeAdded: t.timeAdded }) })),
});

export const toReconcileRequest = (m: ReconcileMessage): ReconcileRequest => ({
  key: m.key, dedupId: m.dedupId, ...(m.observedAt === undefined ? {} : { observedAt: m.observedAt }), ...(m.recheck ? { recheck: true } : {}),
  ...(m.node === undefined ? {} : { node: m.node }), ...(m.labelSelector === undefined ? {} : { labelSelector: m.labelSelector }),
});

export const encodeMessage = (m: QueueMessage): string => JSON.stringify(m);

const MAX_BODY = 1024 * 1024;

/** Parses a body; throws InvalidMessageError (never retried) with the exact problem. */
export function decodeMessage(body: string): QueueMessage {
  if (body.length > MAX_BODY) throw new InvalidMessageError(`message body larger than ${MAX_BODY} characters`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new InvalidMessageError('message body is not JSON', { cause });
  }
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  const schema = type === 'reconcile' ? reconcileSchema : type === 'fanout' ? fanoutSchema : type === 'delayed' ? delayedSchema : null;
  if (schema === null) throw new InvalidMessageError(`unknown message type ${JSON.stringify(type ?? null)}`);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidMessageError(`invalid ${String(type)} message at ${issue?.path.map(String).join('.') ?? '?'}: ${issue?.message ?? ''}`, { cause: parsed.error });
  }
  return parsed.data;
}
