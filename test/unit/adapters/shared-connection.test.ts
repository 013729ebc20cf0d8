/**
 * shareConnection: one undici dispatcher per KubeConfig while the TLS material stays the same;
 * credentials sent as headers still applied to every request.
 */
import { HttpMethod, KubeConfig, RequestContext, type User } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { shareConnection, sharedConnectionStats } from '../../../lib/adapters/kube/shared-connection.js';

const CA = Buffer.from('not a real CA').toString('base64');

function config(user: User): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', caData: CA, skipTLSVerify: false }],
    users: [user],
    contexts: [{ name: 'ctx', cluster: 'c', user: user.name }],
    currentContext: 'ctx',
  });
  return kc;
}

/** What client-node's generated APIs do before each call: auth headers and the dispatcher on a RequestContext. */
async function prepare(kc: KubeConfig): Promise<{ dispatcher: unknown; authorization: string | undefined }> {
  const ctx = new RequestContext('https://127.0.0.1:1/api/v1/nodes', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return { dispatcher: ctx.getDispatcher(), authorization: ctx.getHeaders().Authorization };
}

describe('shareConnection', () => {
  it('client-node as shipped builds a new dispatcher (a new connection) for every call', async () => {
    const kc = config({ name: 'u', token: 't' });
    const a = await prepare(kc);
    const b = await prepare(kc);
    expect(a.dispatcher).toBeDefined();
    expect(a.dispatcher).not.toBe(b.dispatcher);
  });

  it('hands out one dispatcher for every call, with the bearer token applied to each request', async () => {
    const kc = shareConnection(config({ name: 'u', token: 't' }));
    const calls = await Promise.all([prepare(kc), prepare(kc), prepare(kc)]);
    calls.push(await prepare(kc));
    expect(calls[0]?.dispatcher).toBeDefined();
    for (const c of calls) {
      expect(c.dispatcher).toBe(calls[0]?.dispatcher);
      expect(c.authorization).toBe('Bearer t');
    }
    expect(sharedConnectionStats(kc)).toEqual({ dispatchers: 1 });
  });

  it('keeps the dispatcher when a custom authenticator changes the token between calls (EKS token refresh)', async () => {
    const kc = shareConnection(config({ name: 'u', authProvider: { name: 'rotating', config: {} } }));
    let n = 0;
    kc.addAuthenticator({
      isAuthProvider: (u: User) => u?.authProvider?.name === 'rotating',
      applyAuthentication: async (_u, opts) => { n += 1; opts.headers = { ...opts.headers, Authorization: `Bearer token-${n}` }; },
    });
    const a = await prepare(kc);
    const b = await prepare(kc);
    expect([a.authorization, b.authorization]).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(b.dispatcher).toBe(a.dispatcher);
  });

  it('builds a new dispatcher when the client certificate changes, and closes the previous one', async () => {
    const user: User = { name: 'u', certData: Buffer.from('cert-1').toString('base64'), keyData: Buffer.from('key-1').toString('base64') };
    const kc = shareConnection(config(user));
    const a = await prepare(kc);
    expect((await prepare(kc)).dispatcher).toBe(a.dispatcher);
    Object.assign(user, { certData: Buffer.from('cert-2').toString('base64') });
    const b = await prepare(kc);
    expect(b.dispatcher).not.toBe(a.dispatcher);
    expect((await prepare(kc)).dispatcher).toBe(b.dispatcher);
    expect(sharedConnectionStats(kc)).toEqual({ dispatchers: 2 });
    await new Promise((r) => setImmediate(r));
    expect((a.dispatcher as { closed: boolean }).closed).toBe(true);
    expect((b.dispatcher as { closed: boolean }).closed).toBe(false);
  });

  it('is idempotent, and reports nothing for a KubeConfig it was not applied to', async () => {
    const kc = config({ name: 'u', token: 't' });
    expect(sharedConnectionStats(kc)).toBeNull();
    expect(shareConnection(shareConnection(kc))).toBe(kc);
    const a = await prepare(kc);
    expect((await prepare(kc)).dispatcher).toBe(a.dispatcher);
    expect(sharedConnectionStats(kc)).toEqual({ dispatchers: 1 });
  });
});
