/**
 * What the Lambda bundles carry in place of the packages client-node's KubeConfig imports for
 * kubeconfig features a deployed controller does not use (ESBUILD_ALIAS in
 * infra/constructs/defaults.ts): SOCKS proxies (`socks-proxy-agent`, `socks`), the legacy `gcp` and
 * `azure` auth providers (`jsonpath-plus`) and the `oidc` auth provider (`openid-client`). Together
 * about 0.14 MB of every cold start. A kubeconfig that needs one of them fails with this error.
 */
const absent = (feature: string): Error =>
  new Error(`${feature} in a kubeconfig is not supported by the deployed functions (left out of the bundles; infra/constructs/defaults.ts)`);

// socks-proxy-agent
export class SocksProxyAgent {
  constructor() {
    throw absent('a SOCKS proxy-url');
  }
}

// socks
export const SocksClient = {
  createConnection(): never {
    throw absent('a SOCKS proxy-url');
  },
};

// jsonpath-plus (the gcp and azure auth providers)
export function JSONPath(): never {
  throw absent('the gcp or azure auth-provider');
}

// openid-client (the oidc auth provider)
export const customFetch = Symbol('customFetch');
export function discovery(): Promise<never> {
  return Promise.reject(absent('the oidc auth-provider'));
}
export function refreshTokenGrant(): Promise<never> {
  return Promise.reject(absent('the oidc auth-provider'));
}
