import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, toFanoutMessage, toReconcileMessage, toReconcileRequest } from '../../../lib/app/messages.js';
import { InvalidMessageError } from '../../../lib/app/errors.js';

describe('message codec', () => {
  it('round-trips reconcile requests', () => {
    const name = fc.stringMatching(/^[a-z0-9][-a-z0-9]{0,30}$/);
    fc.assert(fc.property(name, name, fc.stringMatching(/^[0-9a-f]{1,64}$/), fc.option(fc.nat(), { nil: undefined }), (ns, n, id, at) => {
      const req = { key: `${ns}/${n}`, dedupId: id, ...(at === undefined ? {} : { observedAt: at }) };
      expect(toReconcileRequest(decodeMessage(encodeMessage(toReconcileMessage(req))) as ReturnType<typeof toReconcileMessage>)).toEqual(req);
    }));
  });

  it('round-trips each fan-out scope', () => {
    for (const f of [
      { scope: 'all' as const, cause: 'node n create', dedupId: 'a' },
      { scope: 'namespace' as const, namespace: 'logging', cause: 'pod', dedupId: 'b', observedAt: 5 },
      { scope: 'selector' as const, namespace: 'logging', labels: { app: 'x' }, cause: 'orphan', dedupId: 'c' },
    ]) {
      expect(decodeMessage(encodeMessage(toFanoutMessage(f)))).toEqual({ v: 1, type: 'fanout', ...f });
    }
  });

  it.each([
    ['not JSON', '{'],
    ['an unknown type', '{"v":1,"type":"explode"}'],
    ['an unknown version', '{"v":2,"type":"reconcile","key":"a/b","dedupId":"x"}'],
    ['an invalid key', '{"v":1,"type":"reconcile","key":"a","dedupId":"x"}'],
    ['an extra field', '{"v":1,"type":"reconcile","key":"a/b","dedupId":"x","evil":true}'],
    ['a dedup id over 128 characters', `{"v":1,"type":"reconcile","key":"a/b","dedupId":"${'x'.repeat(129)}"}`],
    ['a fan-out without namespace', '{"v":1,"type":"fanout","scope":"namespace","cause":"c","dedupId":"x"}'],
    ['a delayed message wrapping a fan-out', '{"v":1,"type":"delayed","dueAt":1,"message":{"v":1,"type":"fanout","scope":"all","cause":"c","dedupId":"x"}}'],
  ])('refuses %s with InvalidMessageError', (_name, body) => {
    expect(() => decodeMessage(body)).toThrow(InvalidMessageError);
  });
});
