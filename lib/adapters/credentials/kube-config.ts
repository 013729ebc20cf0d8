/**
 * The KubeConfig the controller talks to the cluster with, chosen by configuration:
 * - `eks`: endpoint and CA from the environment, a bearer token minted from the function's IAM
 *   credentials through a custom authenticator (no `token`/`exec` on the user, or client-node's
 *   built-in authenticators would take over — ecosystem.md §5);
 * - `secret`: a kubeconfig YAML, or `{"server", "token", "caData"?}` JSON, held in Secrets Manager;
 * - `kubeconfig`: a kubeconfig file (or the default loading rules).
 * Tokens and secret contents are never logged.
 */
import type { User } from '@kubernetes/client-node';
// A deep path: a Lambda bundle carries client-node's KubeConfig, not every API the package exports.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import * as z from 'zod';
import type { ClusterAuth } from '../../config.js';
import { TerminalError } from '../../app/errors.js';
import type { EksTokenProvider } from './eks-token.js';
import type { SecretReader } from './secrets.js';

export const EKS_AUTH_PROVIDER = 'daemonless-eks';

export interface KubeConfigDeps {
  /** Needed for mode `eks`. */
  readonly eksTokens?: EksTokenProvider;
  /** Needed for mode `secret`. */
  readonly readSecret?: SecretReader;
}

const tokenSecretSchema = z.object({
  server: z.url({ protocol: /^https?$/ }),
  token: z.string().min(1),
  caData: z.string().optional(),
  insecureSkipTlsVerify: z.boolean().optional(),
});

export async function buildKubeConfig(auth: ClusterAuth, deps: KubeConfigDeps): Promise<KubeConfig> {
  const kc = new KubeConfig();
  switch (auth.mode) {
    case 'eks': {
      const tokens = deps.eksTokens;
      if (tokens === undefined) throw new TerminalError('EKS cluster auth needs an EKS token provider');
      kc.loadFromOptions({
        clusters: [{ name: 'eks', server: auth.endpoint, caData: auth.caData, skipTLSVerify: false }],
        users: [{ name: 'daemonless', authProvider: { name: EKS_AUTH_PROVIDER, config: {} } }],
        contexts: [{ name: 'eks', cluster: 'eks', user: 'daemonless' }],
        currentContext: 'eks',
      });
      kc.addAuthenticator({
        isAuthProvider: (user: User) => user?.authProvider?.name === EKS_AUTH_PROVIDER,
        applyAuthentication: async (_user, opts) => {
          opts.headers = { ...opts.headers, Authorization: `Bearer ${await tokens.getToken()}` };
        },
      });
      return kc;
    }
    case 'secret': {
      if (deps.readSecret === undefined) throw new TerminalError('secret cluster auth needs a secret reader');
      const text = await deps.readSecret(auth.secretArn);
      loadFromSecretText(kc, text);
      return kc;
    }
    case 'kubeconfig':
      if (auth.path === null) kc.loadFromDefault();
      else kc.loadFromFile(auth.path);
      return kc;
  }
}

/** A kubeconfig YAML, or a `{server, token, caData?}` JSON document. */
export function loadFromSecretText(kc: KubeConfig, text: string): void {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new TerminalError('the cluster secret is neither a kubeconfig nor {server, token} JSON');
    }
    const parsed = tokenSecretSchema.safeParse(value);
    if (!parsed.success) throw new TerminalError('the cluster secret JSON needs "server" (URL) and "token"');
    const s = parsed.data;
    kc.loadFromOptions({
      clusters: [{ name: 'cluster', server: s.server, ...(s.caData === undefined ? {} : { caData: s.caData }), skipTLSVerify: s.insecureSkipTlsVerify ?? false }],
      users: [{ name: 'daemonless', token: s.token }],
      contexts: [{ name: 'cluster', cluster: 'cluster', user: 'daemonless' }],
      currentContext: 'cluster',
    });
    return;
  }
  try {
    kc.loadFromString(trimmed);
  } catch {
    throw new TerminalError('the cluster secret is not a valid kubeconfig');
  }
  if (kc.getCurrentCluster() === null) throw new TerminalError('the kubeconfig in the cluster secret has no current cluster');
}
