/**
 * EVENT-1: the spam filter every upstream controller's event recorder applies (client-go's
 * `EventSourceObjectSpamFilter`): per source and involved object, a token bucket of 25 events
 * refilled at one every 5 minutes; an event without a token is dropped. Kept in memory per
 * process, as upstream keeps it per kube-controller-manager: a new process starts with full buckets.
 */
import type { InvolvedObject } from '../../app/cluster-api.js';

/** client-go's `defaultSpamBurst` and `defaultSpamQPS`. */
export const EVENT_SPAM_BURST = 25;
export const EVENT_SPAM_REFILL_SECONDS = 300;
/** client-go's `maxLruCacheEntries`: the least recently used buckets beyond it are forgotten. */
const MAX_ENTRIES = 4096;

export class EventSpamFilter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly burst = EVENT_SPAM_BURST, private readonly refillSeconds = EVENT_SPAM_REFILL_SECONDS) {}

  /** True when an event from `component` about `involved` may be sent at `nowMs` (takes a token). */
  allow(component: string, involved: InvolvedObject, nowMs: number): boolean {
    const key = [component, involved.kind, involved.namespace, involved.name, involved.uid ?? '', involved.apiVersion].join('\u0000');
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: nowMs };
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > MAX_ENTRIES) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, nowMs - bucket.at) / 1000 / this.refillSeconds);
    bucket.at = Math.max(bucket.at, nowMs);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
