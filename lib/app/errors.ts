/**
 * Error classes of the shell. A reconcile either succeeds (returns a report), fails transiently
 * (the message is retried and, after N receives, lands in the DLQ) or fails terminally (logged,
 * reported as a Kubernetes Event, acknowledged).
 */
export class ControllerError extends Error {
  /** The uid of the DaemonSet the failure is about, when the failing pass had read it. */
  readonly daemonSetUid: string | undefined;

  constructor(message: string, options?: { cause?: unknown; daemonSetUid?: string | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.daemonSetUid = options?.daemonSetUid;
  }
}

/** Worth retrying: 429, 5xx, timeouts, dropped connections, conflicts, incomplete reads. */
export class TransientError extends ControllerError {}

/** Retrying cannot help (for example a DaemonSet the API server would reject); acknowledge it. */
export class TerminalError extends ControllerError {}

/**
 * The object changed since this pass read it (HTTP 409 Conflict on an update carrying a
 * resourceVersion or a UID precondition). Transient: the next read sees the change.
 */
export class ConflictError extends TransientError {}

/** The API server refused the request as invalid (HTTP 422), for example a patch of an object that changed meanwhile. */
export class InvalidObjectError extends TerminalError {}

/** A queue message or webhook body that cannot be understood. Never retried. */
export class InvalidMessageError extends TerminalError {}

export const isTransient = (e: unknown): boolean => e instanceof TransientError;
export const isTerminal = (e: unknown): boolean => e instanceof TerminalError;
