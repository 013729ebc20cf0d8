import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../lib/config.js';

const Q = 'https://sqs.eu-west-1.amazonaws.com/123456789012/daemonless-reconcile.fifo';
const D = 'https://sqs.eu-west-1.amazonaws.com/123456789012/daemonless-delay';
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:daemonless-kubeconfig-AbCdEf';

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig()', () => {
  it('parses a complete reconcile environment into a frozen config with defaults', () => {
    const c = loadConfig({
      DAEMONLESS_QUEUE_URL: Q, DAEMONLESS_DELAY_QUEUE_URL: D, DAEMONLESS_CLUSTER_AUTH: 'eks', DAEMONLESS_EKS_CLUSTER_NAME: 'prod',
      DAEMONLESS_EKS_ENDPOINT: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', DAEMONLESS_EKS_CA_DATA: 'LS0tLS1CRUdJTi\nBDRVJU', AWS_REGION: 'eu-west-1',
      DAEMONLESS_MANAGED_RESOURCE: 'crd', DAEMONLESS_LOG_LEVEL: 'debug', DAEMONLESS_MAX_RECEIVES: '8',
    }, 'reconcile');
    expect(c).toMatchObject({
      queueUrl: Q, delayQueueUrl: D, region: 'eu-west-1', managedResource: 'crd', placement: 'affinity', logLevel: 'DEBUG', maxReceives: 8,
      cluster: { mode: 'eks', clusterName: 'prod', caData: 'LS0tLS1CRUdJTiBDRVJU' }, webhook: { auth: 'any', maxBytes: 6 * 1024 * 1024 },
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.cluster)).toBe(true);
  });

  it('reports every missing variable of a role in one error', () => {
    expect(problems(() => loadConfig({}, 'reconcile'))).toEqual([
      'DAEMONLESS_QUEUE_URL: required by the reconcile function',
      'DAEMONLESS_DELAY_QUEUE_URL: required by the reconcile function (requeue-after)',
      'DAEMONLESS_CLUSTER_AUTH: required by the reconcile function (eks|secret|kubeconfig)',
    ]);
    expect(problems(() => loadConfig({ DAEMONLESS_QUEUE_URL: Q, DAEMONLESS_CLUSTER_AUTH: 'eks' }, 'resync'))).toHaveLength(4);
  });

  it('reports every invalid value at once', () => {
    const p = problems(() => loadConfig({ DAEMONLESS_QUEUE_URL: 'not a url', DAEMONLESS_MANAGED_RESOURCE: 'both', DAEMONLESS_MAX_RECEIVES: '0', DAEMONLESS_PLACEMENT: 'random' }, 'webhook'));
    expect(p.map((x) => x.split(':')[0])).toEqual(['DAEMONLESS_QUEUE_URL', 'DAEMONLESS_MANAGED_RESOURCE', 'DAEMONLESS_PLACEMENT', 'DAEMONLESS_MAX_RECEIVES']);
  });

  it('checks queue kinds: the reconcile queue is FIFO, the delay queue is not', () => {
    expect(problems(() => loadConfig({ DAEMONLESS_QUEUE_URL: D, DAEMONLESS_DELAY_QUEUE_URL: Q, DAEMONLESS_CLUSTER_AUTH: 'kubeconfig' }, 'reconcile'))).toEqual([
      'DAEMONLESS_QUEUE_URL: must be a FIFO queue (name ending in .fifo)',
      'DAEMONLESS_DELAY_QUEUE_URL: must be a standard queue (FIFO queues reject per-message DelaySeconds)',
    ]);
  });

  it('requires a webhook secret (or its ARN) for the webhook, and never echoes it', () => {
    expect(problems(() => loadConfig({ DAEMONLESS_QUEUE_URL: Q }, 'webhook'))).toEqual(['DAEMONLESS_WEBHOOK_SECRET or DAEMONLESS_WEBHOOK_SECRET_ARN: one is required by the webhook function']);
    const p = problems(() => loadConfig({ DAEMONLESS_QUEUE_URL: Q, DAEMONLESS_WEBHOOK_SECRET: 'short' }, 'webhook'));
    expect(p.join()).not.toContain('short');
    expect(loadConfig({ DAEMONLESS_QUEUE_URL: Q, DAEMONLESS_WEBHOOK_SECRET: 'aaaaaaaaaaaaaaaa1, bbbbbbbbbbbbbbbb2' }, 'webhook').webhook.secrets).toEqual(['aaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbb2']);
    expect(loadConfig({ DAEMONLESS_QUEUE_URL: Q, DAEMONLESS_WEBHOOK_SECRET_ARN: ARN }, 'webhook').webhook.secretArn).toBe(ARN);
  });

  it('needs the secret ARN in secret mode and nothing for a local run', () => {
    expect(problems(() => loadConfig({ DAEMONLESS_CLUSTER_AUTH: 'secret' }, 'local'))).toEqual(['DAEMONLESS_KUBECONFIG_SECRET_ARN: required when DAEMONLESS_CLUSTER_AUTH=secret']);
    expect(loadConfig({}, 'local')).toMatchObject({ cluster: { mode: 'kubeconfig', path: null }, workers: 4, resyncSeconds: 300, webhookPort: 0, queueUrl: null });
  });

  it('treats blank variables as unset', () => {
    expect(loadConfig({ DAEMONLESS_LOG_LEVEL: '  ', DAEMONLESS_WORKERS: '' }, 'local')).toMatchObject({ logLevel: 'INFO', workers: 4 });
  });
});
