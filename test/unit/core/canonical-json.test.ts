import { describe, expect, it } from 'vitest';
import { canonicalJson, sameJson } from '../../../lib/core/index.js';

describe('canonicalJson()', () => {
  it('sorts keys at every level, drops absent and null members, renders dates as RFC 3339', () => {
    const value = { b: 1, a: { d: null, c: [{ z: undefined, y: new Date('2024-05-01T10:00:00Z') }] } };
    expect(JSON.stringify(canonicalJson(value))).toBe('{"a":{"c":[{"y":"2024-05-01T10:00:00Z"}]},"b":1}');
  });

  it('keeps null members when asked to (bytes shaped like Go\'s encoder output)', () => {
    expect(JSON.stringify(canonicalJson({ m: { creationTimestamp: null, b: 1 } }, { keepNulls: true }))).toBe('{"m":{"b":1,"creationTimestamp":null}}');
  });

  it('sameJson: key order and null vs absent do not matter; values and array order do', () => {
    expect(sameJson({ a: 1, b: null }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameJson({ a: '1' }, { a: 1 })).toBe(false);
  });
});
