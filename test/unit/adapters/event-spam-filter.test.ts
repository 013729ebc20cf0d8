import { describe, expect, it } from 'vitest';
import { EVENT_SPAM_BURST, EVENT_SPAM_REFILL_SECONDS, EventSpamFilter } from '../../../lib/adapters/kube/event-spam-filter.js';
import { KubeCluster } from '../../../lib/adapters/kube/kube-cluster.js';
import { T0 } from '../../builders/clock.js';
import { MemoryApiServer } from '../../support/memory-api-server.js';
import { MemoryKubeCluster } from '../../support/memory-clients.js';

const ds = (name: string, uid = `uid-${name}`) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'test', name, uid });
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

describe('EVENT-1: events are spam-filtered per source and object, as client-go records them', () => {
  it('a burst of 25 per DaemonSet, then one more every 5 minutes; other DaemonSets keep their own budget', () => {
    const filter = new EventSpamFilter();
    const sent = Array.from({ length: 40 }, () => filter.allow('daemonless', ds('foo'), T0.getTime())).filter(Boolean).length;
    expect(sent).toBe(EVENT_SPAM_BURST);
    expect(filter.allow('daemonless', ds('bar'), T0.getTime())).toBe(true);
    expect(filter.allow('daemonless', ds('foo'), at(EVENT_SPAM_REFILL_SECONDS - 1).getTime())).toBe(false);
    expect(filter.allow('daemonless', ds('foo'), at(EVENT_SPAM_REFILL_SECONDS + 1).getTime())).toBe(true);
    expect(filter.allow('daemonless', ds('foo'), at(EVENT_SPAM_REFILL_SECONDS + 2).getTime())).toBe(false);
    // A namesake with another UID is another object.
    expect(filter.allow('daemonless', ds('foo', 'uid-foo-2'), T0.getTime())).toBe(true);
  });

  it('the adapter sends at most the burst, across the sessions of one process, and reports the dropped ones', async () => {
    const server = new MemoryApiServer(() => T0);
    const cluster = new MemoryKubeCluster(server, { eventFilter: new EventSpamFilter() });
    const results: boolean[] = [];
    for (let i = 0; i < 30; i++) {
      const session: KubeCluster = cluster.session();
      results.push(await session.recordEvent(ds('foo'), { type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: foo-${i}` }, T0));
    }
    expect(results.filter(Boolean)).toHaveLength(EVENT_SPAM_BURST);
    expect(server.events).toHaveLength(EVENT_SPAM_BURST);
    expect(server.events.at(-1)?.message).toBe(`Created pod: foo-${EVENT_SPAM_BURST - 1}`);
  });
});
