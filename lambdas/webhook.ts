/**
 * Placeholder so that the CDK app (infra/) synthesizes until the real webhook handler lands.
 * Replace this file; keep the export name `handler`.
 */
export const handler = async (): Promise<never> => {
  throw new Error('daemonless: the webhook handler is not implemented yet');
};
