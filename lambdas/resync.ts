/**
 * Placeholder so that the CDK app (infra/) synthesizes until the real resync handler lands.
 * Replace this file; keep the export name `handler`.
 */
export const handler = async (): Promise<never> => {
  throw new Error('daemonless: the resync handler is not implemented yet');
};
