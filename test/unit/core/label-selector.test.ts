import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileSelector, formatLabelSelector, parseSelectorString, selectorAdopts, type LabelSelector,
} from '../../../lib/core/index.js';

const parsed = (s: string): LabelSelector => {
  const r = parseSelectorString(s);
  if (!r.ok) throw new Error(r.error);
  return r.selector;
};
const refused = (s: string): string => {
  const r = parseSelectorString(s);
  if (r.ok) throw new Error(`parsed ${JSON.stringify(s)} as ${JSON.stringify(r.selector)}`);
  return r.error;
};

describe('parseSelectorString() — kubectl -l syntax', () => {
  it('turns every requirement into a matchExpression, in the order written', () => {
    expect(parsed('app=web, tier==front,env!=prod,zone in (b, a),disk notin (hdd),gpu,!spot')).toEqual({
      matchExpressions: [
        { key: 'app', operator: 'In', values: ['web'] },
        { key: 'tier', operator: 'In', values: ['front'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'zone', operator: 'In', values: ['b', 'a'] },
        { key: 'disk', operator: 'NotIn', values: ['hdd'] },
        { key: 'gpu', operator: 'Exists' },
        { key: 'spot', operator: 'DoesNotExist' },
      ],
    });
  });

  it('accepts prefixed keys, empty values and the empty selector', () => {
    expect(parsed('kubernetes.io/hostname=node-1,canary=')).toEqual({
      matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }, { key: 'canary', operator: 'In', values: [''] }],
    });
    expect(parsed('')).toEqual({});
    expect(parsed('   ')).toEqual({});
  });

  it('keeps the AND of a key given twice', () => {
    const c = compileSelector(parsed('a=1,a=2'));
    expect(c.ok && c.matches({ a: '1' })).toBe(false);
  });

  it.each([
    ['a in (x', /expected "," or "\)"/],
    ['a=b,', /expected a label key/],
    ['a b', /expected an operator/],
    ['a > 3', /cannot be expressed/],
    ['-a=b', /invalid label key/],
    ['a=-b', /invalid label value/],
    [`a=${'x'.repeat(64)}`, /invalid label value/],
    ['=b', /expected a label key/],
  ])('refuses %j', (input, why) => {
    expect(refused(input)).toMatch(why);
  });
});

describe('formatLabelSelector() and parseSelectorString() agree', () => {
  const key = fc.constantFrom('app', 'tier', 'example.com/role', 'k8s-app');
  const value = fc.constantFrom('', 'a', 'b', 'web', 'v1.2');
  const requirement = fc.oneof(
    // A set holding only the empty value renders as "()", which the -l parser refuses.
    fc.record({ key, operator: fc.constantFrom('In', 'NotIn'), values: fc.uniqueArray(value.filter((v) => v !== ''), { minLength: 1, maxLength: 3 }) }),
    fc.record({ key, operator: fc.constantFrom('Exists', 'DoesNotExist') }),
  );
  const selector: fc.Arbitrary<LabelSelector> = fc.record({
    matchLabels: fc.dictionary(key, value, { maxKeys: 3 }),
    matchExpressions: fc.array(requirement, { maxLength: 3 }),
  });
  const labels = fc.dictionary(key, value, { maxKeys: 4 });

  it('a selector rendered and parsed back selects exactly the same label sets', () => {
    fc.assert(fc.property(selector, fc.array(labels, { minLength: 1, maxLength: 8 }), (sel, sets) => {
      const original = compileSelector(sel);
      const round = compileSelector(parsed(formatLabelSelector(sel)));
      if (!original.ok || !round.ok) return false;
      return sets.every((l) => original.matches(l) === round.matches(l));
    }), { numRuns: 300, seed: 12 });
  });
});

describe('compileSelector() and selectorAdopts()', () => {
  it('a missing selector matches nothing, the empty one everything; adoption needs a valid, non-empty match', () => {
    const none = compileSelector(undefined);
    const all = compileSelector({});
    expect([none.ok && none.matches({ a: '1' }), all.ok && all.matches({ a: '1' }), all.ok && all.empty]).toEqual([false, true, true]);
    expect(selectorAdopts({}, { a: '1' })).toBe(false);
    expect(selectorAdopts(null, { a: '1' })).toBe(false);
    expect(selectorAdopts({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, { a: '1' })).toBe(false);
    expect(selectorAdopts({ matchLabels: { a: '1' } }, { a: '1', b: '2' })).toBe(true);
    expect(selectorAdopts({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['2'] }] }, {})).toBe(true);
  });

  it('an invalid expression is an error value, not a throw', () => {
    expect(compileSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] })).toEqual({ ok: false, error: '"Near" is not a valid label selector operator' });
    expect(compileSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).toMatchObject({ ok: false });
  });
});
