/**
 * EKS bearer tokens (aws-iam-authenticator format, ecosystem.md §6): a presigned STS
 * `GetCallerIdentity` URL with the signed header `x-k8s-aws-id: <cluster>`, encoded as
 * `k8s-aws-v1.` + base64url without padding. The server accepts a token for 15 minutes after its
 * `X-Amz-Date` whatever `X-Amz-Expires` says; the provider refreshes one minute before that (or
 * before the signing credentials expire, whichever is first). No STS call is made.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const EKS_TOKEN_VALIDITY_MS = 15 * 60 * 1000;
export const EKS_TOKEN_REFRESH_MARGIN_MS = 60 * 1000;

export interface EksTokenInput {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  /** Signing time. */
  readonly now: Date;
}

/** One token, signed at `now`. */
export async function buildEksToken(input: EksTokenInput): Promise<string> {
  const host = `sts.${input.region}.amazonaws.com`;
  const signer = new SignatureV4({ service: 'sts', region: input.region, credentials: input.credentials, sha256: Sha256 });
  const signed = await signer.presign(new HttpRequest({
    method: 'GET', protocol: 'https:', hostname: host, path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host, 'x-k8s-aws-id': input.clusterName },
  }), { expiresIn: 60, signingDate: input.now });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return EKS_TOKEN_PREFIX + Buffer.from(`https://${host}/?${query}`, 'utf8').toString('base64url');
}

export interface EksTokenProvider {
  /** A token valid for at least the refresh margin. Concurrent callers share one signing. */
  getToken(): Promise<string>;
}

export function createEksTokenProvider(options: {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly now?: () => number;
  readonly refreshMarginMs?: number;
}): EksTokenProvider {
  const now = options.now ?? Date.now;
  const margin = options.refreshMarginMs ?? EKS_TOKEN_REFRESH_MARGIN_MS;
  let cached: { token: string; refreshAt: number } | null = null;
  let inflight: Promise<string> | null = null;

  const mint = async (): Promise<string> => {
    const credentials = await options.credentials();
    const signedAt = now();
    const token = await buildEksToken({ clusterName: options.clusterName, region: options.region, credentials, now: new Date(signedAt) });
    const credentialExpiry = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    cached = { token, refreshAt: Math.min(signedAt + EKS_TOKEN_VALIDITY_MS, credentialExpiry) - margin };
    return token;
  };

  return {
    getToken() {
      if (cached !== null && now() < cached.refreshAt) return Promise.resolve(cached.token);
      inflight ??= mint().finally(() => { inflight = null; });
      return inflight;
    },
  };
}
