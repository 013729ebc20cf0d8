/**
 * `daemonless plan` reports the rollout controls (CTL-*): the JSON entry carries `rollout` only when
 * a control is set, and the table names what is held and why.
 */
import { describe, expect, it } from 'vitest';
import { plan, ROLLOUT_PARTITION_ANNOTATION } from '../../../lib/core/index.js';
import { renderJson, renderTable, reportOf } from '../../../lib/cli/render.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { nodes } from '../../builders/node.js';
import { converge, markReady, snapshotOf, updateDaemonSet, world } from '../../builders/world.js';

describe('plan output with rollout controls', () => {
  const base = daemonSet();
  const rolled = markReady(converge(world(base.build(), nodes(3)), T0).world, T0);

  it('reports the held nodes in JSON and in the table', () => {
    const w = updateDaemonSet(rolled, base.annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '2' }).update((b) => b.image('x/y')).build());
    const report = reportOf(plan(snapshotOf(w), at(1)));
    const json = JSON.parse(renderJson({ daemonSets: [report] })) as { daemonSets: { rollout: { held: { node: string; reason: string }[]; updating: string[] } }[] };
    expect(json.daemonSets[0]?.rollout.updating).toEqual(['node-0']);
    expect(json.daemonSets[0]?.rollout.held.map((h) => `${h.node}:${h.reason}`)).toEqual(['node-1:partition', 'node-2:partition']);
    const table = renderTable({ daemonSets: [report] });
    expect(table).toContain('  rollout controls: partition 2\n');
    expect(table).toContain('  updating 1 node(s): maxUnavailable 1, maxSurge 0\n');
    expect(table).toMatch(/ {2}held node-1 \(partition\): foo-\S+ at revision \S+\n/);
  });

  it('has no rollout entry when no control is set', () => {
    const w = updateDaemonSet(rolled, base.update((b) => b.image('x/y')).build());
    const report = reportOf(plan(snapshotOf(w), at(1)));
    expect('rollout' in report).toBe(false);
    expect(renderTable({ daemonSets: [report] })).not.toContain('rollout');
  });
});
