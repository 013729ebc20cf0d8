export { buildEksToken, createEksTokenProvider, EKS_TOKEN_PREFIX, EKS_TOKEN_VALIDITY_MS, type EksTokenProvider } from './eks-token.js';
export { createSecretReader, type SecretReader } from './secrets.js';
export { buildKubeConfig, loadFromSecretText, EKS_AUTH_PROVIDER, type KubeConfigDeps } from './kube-config.js';
