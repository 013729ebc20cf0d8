/**
 * Webhook function (Lambda Function URL, payload v2): middleware composition around handleWebhook.
 * If the dependencies cannot be built, an AdmissionReview is still allowed (admission never blocks
 * the cluster) and anything else gets 503 so that its sender retries.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { admissionAllowed, handleWebhook, peekAdmissionPrefix, type WebhookRequest } from '../lib/app/handle-webhook.js';
import { resolveDeps, webhookDeps, type DepsSource, type WebhookHandlerDeps } from './shared/deps.js';
import { observability, observedHandler, type Observability } from './shared/observability.js';

export function toWebhookRequest(event: APIGatewayProxyEventV2): WebhookRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const raw = event.body ?? '';
  return {
    method: event.requestContext?.http?.method ?? 'POST',
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    headers,
    body: event.isBase64Encoded === true ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8'),
  };
}

export function createHandler(deps: DepsSource<WebhookHandlerDeps>, obs: Observability = observability()) {
  return observedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(obs)
    .handler(async (event) => {
      const request = toWebhookRequest(event);
      let resolved: WebhookHandlerDeps;
      try {
        resolved = await resolveDeps(deps);
      } catch (e) {
        obs.logger.error('webhook dependencies unavailable', { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
        const admission = peekAdmissionPrefix(request.body);
        const res = admission !== null ? admissionAllowed(admission.uid, admission.apiVersion)
          : { statusCode: 503, headers: { 'content-type': 'application/json', 'retry-after': '5' }, body: '{"ok":false,"error":"not ready"}' };
        return { ...res, headers: { ...res.headers } };
      }
      const res = await handleWebhook(request, resolved.webhook);
      return { statusCode: res.statusCode, headers: { ...res.headers }, body: res.body };
    });
}

export const handler = createHandler(webhookDeps);
