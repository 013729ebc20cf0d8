import { describe, expect, it } from 'vitest';
import { parseNow, planOptionsOf, planSnapshotText } from '../../../lib/cli/plan-command.js';
import { renderJson, renderTable } from '../../../lib/cli/render.js';
import { parseSnapshot, SnapshotError, snapshotsOf } from '../../../lib/cli/snapshot.js';
import { BOTH_BUDGETS_YAML, DELETING_DS_JSON, EMPTY_SELECTOR_YAML, NO_METADATA_YAML, NODE_JSON, NOT_YAML, VALID_YAML } from './fixtures.js';

const NOW = new Date('2024-05-01T00:00:00Z');

describe('parseSnapshot()', () => {
  it('reads a v1 List, keeps the four kinds and drops the others', () => {
    const objects = parseSnapshot(VALID_YAML, 'snap.yaml');
    expect([objects.daemonSets.length, objects.nodes.length, objects.pods.length, objects.revisions.length]).toEqual([1, 3, 1, 0]);
  });

  it('reads a multi-document stream of JSON documents and defaults the namespace', () => {
    const objects = parseSnapshot(`${DELETING_DS_JSON}\n---\n${NODE_JSON}\n---\n{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}\n`, 's');
    expect(objects.daemonSets.map((d) => d.metadata?.name)).toEqual(['gone']);
    expect(objects.pods[0]?.metadata?.namespace).toBe('default');
  });

  it.each([
    ['not YAML/JSON', NOT_YAML, /^in: not valid YAML or JSON: /],
    ['object without metadata', NO_METADATA_YAML, /^in: document \(Node\) has no metadata$/],
    ['object without kind', 'metadata: {name: x}\n', /^in: document has no kind$/],
    ['empty selector', EMPTY_SELECTOR_YAML, /^DaemonSet default\/bad: spec\.selector: empty selector is invalid for daemonset$/],
    ['both budgets non-zero', BOTH_BUDGETS_YAML, /^DaemonSet default\/both: spec\.updateStrategy\.rollingUpdate\.maxSurge: may not be set when maxUnavailable is non-zero$/],
  ])('rejects %s with one line naming the object', (_name, text, message) => {
    let error: unknown;
    try {
      parseSnapshot(text, 'in');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('builds one snapshot per DaemonSet sorted by namespace then name', () => {
    const objects = parseSnapshot(`${VALID_YAML}---\n${DELETING_DS_JSON}\n`, 's');
    expect(snapshotsOf(objects).map((s) => `${s.daemonSet.metadata?.namespace}/${s.daemonSet.metadata?.name}`)).toEqual(['default/nginx-ds', 'kube-system/gone']);
    expect(snapshotsOf(objects).every((s) => s.complete)).toBe(true);
  });
});

describe('planSnapshotText()', () => {
  it('plans the raw snapshot (string timestamps) per the plan-cli contract', () => {
    const report = planSnapshotText(VALID_YAML, 's', NOW, planOptionsOf({}));
    const [ds] = report.daemonSets;
    expect(ds?.create.map((c) => c.node)).toEqual(['node-1', 'node-2']);
    expect(ds?.delete).toEqual([{ name: 'nginx-ds-old', node: 'master', reason: 'not-eligible' }]);
    expect(ds?.status).toEqual({
      currentNumberScheduled: 0,
      numberMisscheduled: 1,
      desiredNumberScheduled: 2,
      numberReady: 0,
      updatedNumberScheduled: 0,
      numberAvailable: 0,
      numberUnavailable: 2,
      observedGeneration: 2,
      conditions: [{ type: 'Custom', status: 'True' }],
    });
    expect(ds?.requeueAfterSeconds).toBeNull();
  });

  it('gives a DaemonSet being deleted an entry with no creates or deletes', () => {
    const report = planSnapshotText(`${DELETING_DS_JSON}\n---\n${NODE_JSON}\n`, 's', NOW, planOptionsOf({}));
    expect(report.daemonSets.map((d) => [d.name, d.create.length, d.delete.length, d.outcome])).toEqual([['gone', 0, 0, 'deleting']]);
  });

  it('honours --placement nodeName', () => {
    const objects = parseSnapshot(VALID_YAML, 's');
    const report = planSnapshotText(VALID_YAML, 's', NOW, planOptionsOf({ placement: 'nodeName' }));
    expect(report.daemonSets[0]?.create.map((c) => c.node)).toEqual(['node-1', 'node-2']);
    expect(objects.nodes).toHaveLength(3);
    expect(() => planOptionsOf({ placement: 'magic' })).toThrow(SnapshotError);
    expect(() => planOptionsOf({ backoffMaxSeconds: '-1' })).toThrow(SnapshotError);
  });

  it('parses --now as RFC 3339 only', () => {
    expect(parseNow('2024-05-01T00:00:00Z', () => new Date(0)).toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseNow(undefined, () => NOW)).toBe(NOW);
    expect(() => parseNow('yesterday', () => NOW)).toThrow(SnapshotError);
  });

  it('renders json and table', () => {
    const report = planSnapshotText(VALID_YAML, 's', NOW, planOptionsOf({}));
    expect(JSON.parse(renderJson(report))).toEqual(JSON.parse(JSON.stringify(report)));
    const table = renderTable(report);
    expect(table).toContain('DaemonSet default/nginx-ds');
    expect(table).toMatch(/master\s+delete\s+nginx-ds-old\s+not-eligible/);
    expect(table).toMatch(/node-1\s+create\s+nginx-ds-/);
    expect(renderTable({ daemonSets: [] })).toBe('No DaemonSets in the snapshot.\n');
  });
});
