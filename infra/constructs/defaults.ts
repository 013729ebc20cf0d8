/**
 * Defaults of the daemonless constructs, kept apart from the construct logic.
 */
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export const DEFAULT_MAX_RECEIVE_COUNT = 5;
/** AWS guidance for Lambda consumers of SQS: visibility timeout ≥ 6 × function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export const RUNTIME = Runtime.NODEJS_24_X;
export const ARCHITECTURE = Architecture.ARM_64;
/** esbuild target matching RUNTIME. */
export const ESBUILD_TARGET = 'node24';
/**
 * esbuild `alias` of the Lambda bundles:
 * - client-node's default transport (undici) is replaced by a module that refuses to run
 *   (lib/adapters/kube/undici-absent.ts); the controller's Kubernetes API objects use node:http2
 *   (lib/adapters/kube/h2-transport.ts). Saves 0.75 MB per bundle;
 * - `node:http` is loaded with `require` (shims/node-http.cjs), which spares the cold start the
 *   load of Node's own undici that an ES module import of it triggers;
 * - the packages of kubeconfig features a deployed controller does not use (SOCKS proxies, the
 *   gcp, azure and oidc auth providers) are replaced by lib/adapters/kube/kubeconfig-extras-absent.ts,
 *   which fails clearly if a kubeconfig asks for one: 0.14 MB less to load.
 */
const KUBECONFIG_EXTRAS = fileURLToPath(new URL('../../lib/adapters/kube/kubeconfig-extras-absent.ts', import.meta.url));
const NODE_HTTP = fileURLToPath(new URL('./shims/node-http.cjs', import.meta.url));
export const ESBUILD_ALIAS: Readonly<Record<string, string>> = {
  undici: fileURLToPath(new URL('../../lib/adapters/kube/undici-absent.ts', import.meta.url)),
  'socks-proxy-agent': KUBECONFIG_EXTRAS,
  socks: KUBECONFIG_EXTRAS,
  'jsonpath-plus': KUBECONFIG_EXTRAS,
  'openid-client': KUBECONFIG_EXTRAS,
  http: NODE_HTTP,
  'node:http': NODE_HTTP,
};
/**
 * Source maps without the sources' text (esbuild `sourcesContent`): stack traces map to files and
 * lines all the same, and the map Node parses at start (`--enable-source-maps`) is 2 MB instead
 * of 4.6 MB — about 25 ms less cold init for the reconcile function.
 */
export const ESBUILD_SOURCES_CONTENT = false;
/**
 * ESM bundles need a real `require` for the CommonJS dependencies they contain (client-node's
 * transitive deps); without it they fail with `Dynamic require of "stream" is not supported`.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __daemonlessCreateRequire } from 'node:module'; " +
  'const require = __daemonlessCreateRequire(import.meta.url);';

export const DEFAULT_RECONCILE_TIMEOUT = Duration.seconds(60);
export const DEFAULT_RECONCILE_MEMORY_MB = 512;
export const DEFAULT_RECONCILE_BATCH_SIZE = 10;
export const DEFAULT_RECONCILE_MAX_CONCURRENCY = 5;
/** The delay-queue forwarder only re-sends messages; Lambda's minimum maxConcurrency is enough. */
export const DELAY_FORWARD_MAX_CONCURRENCY = 2;

/** The admission webhook waits at most 3 s (manifests); the function must answer well inside that. */
export const WEBHOOK_TIMEOUT = Duration.seconds(5);
export const WEBHOOK_MEMORY_MB = 256;
export const DEFAULT_WEBHOOK_RESERVED_CONCURRENCY = 10;

export const RESYNC_TIMEOUT = Duration.seconds(60);
export const RESYNC_MEMORY_MB = 256;
export const DEFAULT_RESYNC_RESERVED_CONCURRENCY = 1;
export const DEFAULT_RESYNC_INTERVAL = Duration.minutes(5);

export const DEFAULT_LOG_RETENTION = RetentionDays.ONE_MONTH;
export const DEFAULT_QUEUE_AGE_ALARM = Duration.minutes(10);

export const QUEUE_RETENTION = Duration.days(4);
export const DEAD_LETTER_RETENTION = Duration.days(14);

export const WEBHOOK_TOKEN_LENGTH = 48;

export const POWERTOOLS_SERVICE_NAME = 'daemonless';
/**
 * CloudWatch namespace of the functions' metrics (DAEMONLESS_METRICS_NAMESPACE): one per stack, so
 * that two controllers in one account and region (one per cluster) keep their metrics and alarms apart.
 */
export const metricsNamespaceOf = (stackName: string): string => `daemonless/${stackName}`;
