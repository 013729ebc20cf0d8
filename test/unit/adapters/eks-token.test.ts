import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildEksToken, createEksTokenProvider, EKS_TOKEN_PREFIX } from '../../../lib/adapters/credentials/eks-token.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE/+=' };
const NOW = new Date('2026-11-28T12:00:00Z');

function decode(token: string): URL {
  expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
  const b64 = token.slice(EKS_TOKEN_PREFIX.length);
  expect(b64).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(b64, 'base64url').toString('utf8'));
}

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** An independent SigV4 query-signature check (AWS Signature Version 4 specification). */
function expectedSignature(url: URL, clusterName: string, region: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonicalQuery = params.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${url.host}`, `x-k8s-aws-id:${clusterName}`, '', 'host;x-k8s-aws-id',
    createHash('sha256').update('').digest('hex')].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date')!;
  const scope = `${amzDate.slice(0, 8)}/${region}/sts/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, amzDate.slice(0, 8)), region), 'sts'), 'aws4_request');
  return hmac(key, stringToSign).toString('hex');
}

describe('buildEksToken()', () => {
  it('presigns GetCallerIdentity on the regional STS host with x-k8s-aws-id signed', async () => {
    const token = await buildEksToken({ clusterName: 'prod-cluster', region: 'eu-west-1', credentials, now: NOW });
    expect(token).not.toContain('=');
    const url = decode(token);
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = Object.fromEntries(url.searchParams.entries());
    expect(q).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261128/eu-west-1/sts/aws4_request',
      'X-Amz-Date': '20261128T120000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': credentials.sessionToken,
    });
    expect(q['X-Amz-Signature']).toBe(expectedSignature(url, 'prod-cluster', 'eu-west-1'));
  });

  it('is deterministic for fixed inputs and changes with the cluster name', async () => {
    const a = await buildEksToken({ clusterName: 'prod-cluster', region: 'eu-west-1', credentials, now: NOW });
    const b = await buildEksToken({ clusterName: 'prod-cluster', region: 'eu-west-1', credentials, now: NOW });
    const c = await buildEksToken({ clusterName: 'other', region: 'eu-west-1', credentials, now: NOW });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a.length).toBeLessThan(4096);
  });
});

describe('createEksTokenProvider()', () => {
  it('caches the token and refreshes it one minute before the 15-minute validity ends', async () => {
    let now = NOW.getTime();
    let fetched = 0;
    const provider = createEksTokenProvider({ clusterName: 'c', region: 'us-east-1', now: () => now, credentials: async () => { fetched += 1; return credentials; } });
    const first = await provider.getToken();
    now += 13 * 60_000 + 59_000;
    expect(await provider.getToken()).toBe(first);
    now += 1_000;
    const second = await provider.getToken();
    expect(second).not.toBe(first);
    expect(decode(second).searchParams.get('X-Amz-Date')).toBe('20261128T121400Z');
    expect(fetched).toBe(2);
  });

  it('refreshes earlier when the signing credentials expire first, and shares one signing between callers', async () => {
    let now = NOW.getTime();
    let fetched = 0;
    const expiring = { ...credentials, expiration: new Date(now + 5 * 60_000) };
    const provider = createEksTokenProvider({ clusterName: 'c', region: 'us-east-1', now: () => now, credentials: async () => { fetched += 1; return expiring; } });
    const [a, b] = await Promise.all([provider.getToken(), provider.getToken()]);
    expect(a).toBe(b);
    expect(fetched).toBe(1);
    now += 4 * 60_000;
    await provider.getToken();
    expect(fetched).toBe(2);
  });

  it('does not cache a failure', async () => {
    let calls = 0;
    const provider = createEksTokenProvider({ clusterName: 'c', region: 'us-east-1', credentials: async () => { calls += 1; if (calls === 1) throw new Error('IMDS timeout'); return credentials; } });
    await expect(provider.getToken()).rejects.toThrow('IMDS timeout');
    await expect(provider.getToken()).resolves.toMatch(/^k8s-aws-v1\./);
  });
});
