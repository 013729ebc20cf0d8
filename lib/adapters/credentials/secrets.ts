/**
 * Secret values from Secrets Manager, fetched once per container (per secret id) and kept in memory.
 * A failed fetch is not cached, so the next invocation tries again. Values are never logged.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { TransientError } from '../../app/errors.js';

export type SecretReader = (secretId: string) => Promise<string>;

export function createSecretReader(client: SecretsManagerClient): SecretReader {
  const cache = new Map<string, Promise<string>>();
  return (secretId) => {
    let value = cache.get(secretId);
    if (value === undefined) {
      value = fetchSecret(client, secretId);
      cache.set(secretId, value);
      value.catch(() => cache.delete(secretId));
    }
    return value;
  };
}

async function fetchSecret(client: SecretsManagerClient, secretId: string): Promise<string> {
  let out;
  try {
    out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  } catch (cause) {
    throw new TransientError(`could not read secret ${secretId}: ${cause instanceof Error ? cause.name : 'error'}`, { cause });
  }
  if (out.SecretString !== undefined) return out.SecretString;
  if (out.SecretBinary !== undefined) return Buffer.from(out.SecretBinary).toString('utf8');
  throw new TransientError(`secret ${secretId} has no value`);
}
