/**
 * What the Lambda bundles carry in place of undici (ESBUILD_ALIAS in infra/constructs/defaults.ts).
 * client-node imports undici for its default transport (fetch, and an Agent per call); the
 * controller's API objects use h2-transport.ts instead, so undici — three quarters of a megabyte,
 * most of it HTTP/1.1 parsers compiled to WebAssembly — would be dead weight in every cold start.
 * Code that still reaches for it (client-node's Watch, or API objects built with
 * `KubeConfig.makeApiClient`) fails with this error rather than silently.
 */
const absent = (what: string): Error =>
  new Error(`undici.${what} is not in this bundle: build Kubernetes API objects with lib/adapters/kube/clients.ts (its transport is node:http2)`);

export class Agent {
  constructor() {
    throw absent('Agent');
  }
}

export class ProxyAgent {
  constructor() {
    throw absent('ProxyAgent');
  }
}

export function fetch(): Promise<never> {
  return Promise.reject(absent('fetch'));
}
