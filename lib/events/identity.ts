/**
 * SQS FIFO identifiers. MessageGroupId and MessageDeduplicationId allow at most 128 characters of
 * alphanumerics and punctuation (`!"#$%&'()*+,-./:;<=>?@[\]^_\`{|}~`); a DaemonSet key
 * (namespace ≤ 63 + "/" + name ≤ 253) can be longer, so long or odd values are hashed.
 */
import { createHash } from 'node:crypto';
import type { DaemonSetKey } from './types.js';

export const SQS_ID_MAX = 128;
const SQS_ID_CHARSET = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]+$/;

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** True when `id` is usable as MessageGroupId / MessageDeduplicationId as is. */
export const isSqsId = (id: string): boolean => id.length > 0 && id.length <= SQS_ID_MAX && SQS_ID_CHARSET.test(id);

/**
 * The message group of a key: the key itself when SQS accepts it, otherwise `h:` + SHA-256 hex
 * (66 characters). Keys always contain "/" and never ":", so hashed and plain groups cannot collide.
 */
export function messageGroupId(key: DaemonSetKey): string {
  return isSqsId(key) ? key : `h:${sha256Hex(key)}`;
}

/**
 * The message group of a reconcile request: its key's; a node-scoped pass (IMPL-6) has a group of
 * its own per key and node (IMPL-8), so it never waits behind the key's full passes. Names never
 * contain "@", so these groups cannot be a key's.
 */
export function requestGroupId(request: { readonly key: DaemonSetKey; readonly node?: string | undefined }): string {
  return request.node === undefined ? messageGroupId(request.key) : messageGroupId(`${request.key}@${request.node}`);
}

/**
 * The message group of fan-out messages: their own groups, apart from every key's group. Node
 * fan-outs get a group per node, so the changes of one node stay in order while different nodes'
 * fan-outs never wait behind each other (a batch of joins expands in parallel invocations).
 */
export function fanoutGroupId(scope: { scope: string; namespace?: string; node?: string }): string {
  const group = scope.node !== undefined ? `fanout:node:${scope.node}` : scope.namespace === undefined ? `fanout:${scope.scope}` : `fanout:${scope.scope}:${scope.namespace}`;
  return isSqsId(group) ? group : `h:${sha256Hex(group)}`;
}

/**
 * A deduplication id from identity parts (for example object uid, resourceVersion, operation, key):
 * SHA-256 hex of the length-prefixed parts, 64 characters of the allowed charset.
 */
export function dedupId(...parts: readonly (string | number)[]): string {
  return sha256Hex(parts.map((p) => `${String(p).length}:${String(p)}`).join('|'));
}
