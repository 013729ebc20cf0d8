import { describe, expect, it } from 'vitest';
import { requiredNodeAffinityMatches } from '../../../lib/core/node-affinity.js';
import { node } from '../../builders/node.js';

const n = node('node-a').labels({ zone: 'z1', size: '10' }).build();
const match = (terms: Parameters<typeof requiredNodeAffinityMatches>[0]) => requiredNodeAffinityMatches(terms, n);

describe('SCHED-4 required node affinity', () => {
  it('ORs terms and ignores empty ones; no non-empty term matches nothing', () => {
    expect(match({ nodeSelectorTerms: [] })).toBe(false);
    expect(match({ nodeSelectorTerms: [{}] })).toBe(false);
    expect(match({ nodeSelectorTerms: [{}, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] })).toBe(true);
  });

  it('ANDs matchExpressions and matchFields within a term', () => {
    const both = (name: string) => ({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: [name] }] }] });
    expect(match(both('node-a'))).toBe(true);
    expect(match(both('node-b'))).toBe(false);
  });

  it('supports In, NotIn, Exists, DoesNotExist, Gt, Lt on labels', () => {
    const one = (key: string, operator: string, values?: string[]) => match({ nodeSelectorTerms: [{ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] }] });
    expect(one('zone', 'NotIn', ['z2'])).toBe(true);
    expect(one('zone', 'NotIn', ['z1'])).toBe(false);
    expect(one('missing', 'NotIn', ['x'])).toBe(true);
    expect(one('zone', 'Exists')).toBe(true);
    expect(one('zone', 'DoesNotExist')).toBe(false);
    expect(one('size', 'Gt', ['9'])).toBe(true);
    expect(one('size', 'Lt', ['9'])).toBe(false);
    expect(one('zone', 'Gt', ['1'])).toBe(false);
    expect(one('size', 'Gt', ['1', '2'])).toBe(false);
    expect(one('zone', 'Bogus', ['z1'])).toBe(false);
  });

  it('matchFields: only metadata.name, In/NotIn, exactly one value', () => {
    const field = (key: string, operator: string, values: string[]) => match({ nodeSelectorTerms: [{ matchFields: [{ key, operator, values }] }] });
    expect(field('metadata.name', 'NotIn', ['node-b'])).toBe(true);
    expect(field('metadata.name', 'In', ['node-a', 'node-b'])).toBe(false);
    expect(field('metadata.uid', 'In', ['node-a'])).toBe(false);
  });
});
