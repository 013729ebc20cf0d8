import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { parseWebhookSecret } from '../../../lambdas/shared/deps.js';
import { buildKubeConfig, createSecretReader } from '../../../lib/adapters/credentials/index.js';
import { TerminalError, TransientError } from '../../../lib/app/errors.js';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

function fakeSecrets(answer: (id: string, n: number) => unknown) {
  let n = 0;
  const client = { async send(c: { input: { SecretId: string } }) { n += 1; const out = answer(c.input.SecretId, n); if (out instanceof Error) throw out; return out; } };
  return { client: client as unknown as SecretsManagerClient, calls: () => n };
}

describe('buildKubeConfig()', () => {
  it('eks: endpoint and CA from config, a fresh bearer token on every request through the custom authenticator', async () => {
    let minted = 0;
    const kc = await buildKubeConfig({ mode: 'eks', clusterName: 'prod', endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', caData: CA }, {
      eksTokens: { getToken: async () => `k8s-aws-v1.token-${++minted}` },
    });
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', caData: CA, skipTLSVerify: false });
    expect(kc.getCurrentUser()).not.toHaveProperty('token');
    const opts: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toBe('Bearer k8s-aws-v1.token-1');
    await kc.applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toBe('Bearer k8s-aws-v1.token-2');
  });

  it('secret: a {server, token} JSON document', async () => {
    const { client } = fakeSecrets(() => ({ SecretString: JSON.stringify({ server: 'https://10.0.0.1:6443', token: 'sa-token', caData: CA }) }));
    const kc = await buildKubeConfig({ mode: 'secret', secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:k' }, { readSecret: createSecretReader(client) });
    expect(kc.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    const opts: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(opts);
    expect(opts.headers?.Authorization).toBe('Bearer sa-token');
  });

  it('secret: a kubeconfig YAML', async () => {
    const yaml = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://k8s.example:6443", certificate-authority-data: "${CA}" } }]
users: [{ name: u, user: { token: "yaml-token" } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;
    const { client } = fakeSecrets(() => ({ SecretString: yaml }));
    const kc = await buildKubeConfig({ mode: 'secret', secretArn: 'arn' }, { readSecret: createSecretReader(client) });
    expect(kc.getCurrentCluster()?.server).toBe('https://k8s.example:6443');
  });

  it.each([
    ['JSON without a token', JSON.stringify({ server: 'https://x' })],
    ['broken JSON', '{"server":'],
    ['a kubeconfig without a current cluster', 'apiVersion: v1\nkind: Config\nclusters: []\n'],
  ])('secret: refuses %s without echoing it', async (_name, text) => {
    const { client } = fakeSecrets(() => ({ SecretString: text }));
    const err = await buildKubeConfig({ mode: 'secret', secretArn: 'arn' }, { readSecret: createSecretReader(client) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect((err as Error).message).not.toContain('https://x');
  });
});

describe('createSecretReader()', () => {
  it('fetches once per container and does not cache failures', async () => {
    const { client, calls } = fakeSecrets((_id, n) => (n === 1 ? Object.assign(new Error('throttled'), { name: 'ThrottlingException' }) : { SecretString: 'value' }));
    const read = createSecretReader(client);
    await expect(read('s')).rejects.toBeInstanceOf(TransientError);
    expect(await read('s')).toBe('value');
    expect(await read('s')).toBe('value');
    expect(calls()).toBe(2);
  });

  it('reads binary secrets', async () => {
    const { client } = fakeSecrets(() => ({ SecretBinary: new TextEncoder().encode('bin') }));
    expect(await createSecretReader(client)('s')).toBe('bin');
  });
});

describe('parseWebhookSecret()', () => {
  it('accepts a plain value, a list, or {"secrets": [...]}', () => {
    expect(parseWebhookSecret('abc\n')).toEqual(['abc']);
    expect(parseWebhookSecret('a, b\nc')).toEqual(['a', 'b', 'c']);
    expect(parseWebhookSecret('{"secrets":["x","y"]}')).toEqual(['x', 'y']);
    expect(parseWebhookSecret('{"secret":"z"}')).toEqual(['z']);
  });
});
