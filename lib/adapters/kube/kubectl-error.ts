/**
 * The error of the rollout commands, in a module of its own so that the command line can load it
 * without the Kubernetes client.
 */

/** A failure with the exact line kubectl would print for it (without a trailing newline). */
export class KubectlError extends Error {}
