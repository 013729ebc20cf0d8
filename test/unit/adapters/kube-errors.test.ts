import { describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../../../lib/app/errors.js';
import { isAlreadyExists, isNamespaceTerminating, statusReason, toClusterError } from '../../../lib/adapters/kube/kube-errors.js';
import { formatLabelSelector } from '../../../lib/core/index.js';

/** The shape of a client-node ApiException: numeric code, body as the Status JSON text. */
const apiError = (code: number, status: object) => Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify(status) });

describe('toClusterError()', () => {
  it.each([
    { name: 'too many requests', code: 429, transient: true },
    { name: 'server error', code: 500, transient: true },
    { name: 'unavailable', code: 503, transient: true },
    { name: 'conflict', code: 409, transient: true },
    { name: 'expired', code: 410, transient: true },
    { name: 'connection failure (no status)', code: 0, transient: true },
    { name: 'forbidden (RBAC)', code: 403, transient: false },
    { name: 'unauthorized', code: 401, transient: false },
    { name: 'invalid', code: 422, transient: false },
  ])('classifies $name as transient=$transient', ({ code, transient }) => {
    const e = toClusterError(code ? apiError(code, { reason: 'X' }) : new Error('socket hang up'), 'create pod a/b');
    expect(e).toBeInstanceOf(transient ? TransientError : TerminalError);
    expect(e.message).toMatch(/^create pod a\/b: /);
  });
});

describe('Status details', () => {
  it('reads the reason of a Status body given as text or as an object', () => {
    expect(statusReason(apiError(409, { reason: 'AlreadyExists' }))).toBe('AlreadyExists');
    expect(statusReason({ code: 409, body: { reason: 'Conflict' } })).toBe('Conflict');
    expect(isAlreadyExists(apiError(409, { reason: 'Conflict' }))).toBe(false);
  });

  it('recognizes a create refused because the namespace is being deleted, and nothing else', () => {
    const terminating = apiError(403, { reason: 'Forbidden', details: { causes: [{ type: 'NamespaceTerminating', message: 'namespace x is being terminated' }] } });
    expect(isNamespaceTerminating(terminating)).toBe(true);
    expect(isNamespaceTerminating(apiError(403, { reason: 'Forbidden' }))).toBe(false);
    expect(isNamespaceTerminating(apiError(422, { details: { causes: [{ type: 'NamespaceTerminating' }] } }))).toBe(false);
  });
});

describe('formatLabelSelector()', () => {
  it('renders matchLabels and every expression operator as the API server parses them', () => {
    expect(formatLabelSelector({
      matchLabels: { b: '2', a: '1' },
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['z2', 'z1'] },
        { key: 'tier', operator: 'NotIn', values: ['x'] },
        { key: 'gpu', operator: 'Exists' },
        { key: 'old', operator: 'DoesNotExist' },
      ],
    })).toBe('a=1,b=2,zone in (z1,z2),tier notin (x),gpu,!old');
    expect(formatLabelSelector(undefined)).toBe('');
  });

  it('refuses an unknown operator', () => {
    expect(() => formatLabelSelector({ matchExpressions: [{ key: 'k', operator: 'Near' }] })).toThrow(/unknown label selector operator/);
  });
});
