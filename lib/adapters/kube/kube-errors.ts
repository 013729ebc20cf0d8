/**
 * Translates @kubernetes/client-node failures into the shell's error classes. Pure translation.
 */
import { ConflictError, InvalidObjectError, TerminalError, TransientError } from '../../app/errors.js';

/** The HTTP status of an ApiException (or a fetch-level failure: 0). */
export function statusCode(e: unknown): number {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'number' ? code : 0;
}

/** The Kubernetes Status `reason` carried in an ApiException body (string or parsed object). */
export function statusReason(e: unknown): string | undefined {
  const body = (e as { body?: unknown })?.body;
  const parsed = typeof body === 'string' ? safeParse(body) : body;
  const reason = (parsed as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Whether the Status in an ApiException body lists a cause of this type (e.g. NamespaceTerminating). */
export function hasStatusCause(e: unknown, type: string): boolean {
  const body = (e as { body?: unknown })?.body;
  const parsed = typeof body === 'string' ? safeParse(body) : body;
  const causes = (parsed as { details?: { causes?: Array<{ type?: unknown; reason?: unknown }> } } | undefined)?.details?.causes ?? [];
  return causes.some((c) => c.type === type || c.reason === type);
}

/**
 * A create refused because its namespace is being deleted. Upstream's syncNodes ignores these: the
 * namespace controller removes the DaemonSet soon anyway.
 */
export const isNamespaceTerminating = (e: unknown): boolean => statusCode(e) === 403 && hasStatusCause(e, 'NamespaceTerminating');

export const isNotFound = (e: unknown): boolean => statusCode(e) === 404;
export const isConflict = (e: unknown): boolean => statusCode(e) === 409;
export const isAlreadyExists = (e: unknown): boolean => statusCode(e) === 409 && statusReason(e) === 'AlreadyExists';
export const isGone = (e: unknown): boolean => statusCode(e) === 410;

/**
 * Classifies an API failure: 429, 5xx, 409 conflicts, timeouts and connection errors are transient;
 * 400/401/403/422 are terminal (retrying the same request cannot succeed; 401/403 mean the
 * controller's credentials or ClusterRole are wrong, which an operator has to fix). A 409 is a
 * ConflictError and a 422 an InvalidObjectError, the two answers the shell acts on.
 */
export function toClusterError(e: unknown, what: string): Error {
  if (e instanceof TransientError || e instanceof TerminalError) return e;
  const code = statusCode(e);
  const reason = statusReason(e);
  const detail = code ? `HTTP ${code}${reason ? ` ${reason}` : ''}` : (e as Error)?.message ?? String(e);
  const message = `${what}: ${detail}`;
  if (code === 409) return new ConflictError(message, { cause: e });
  if (code === 422) return new InvalidObjectError(message, { cause: e });
  if (code === 0 || code === 408 || code === 410 || code === 429 || code >= 500) return new TransientError(message, { cause: e });
  return new TerminalError(message, { cause: e });
}
