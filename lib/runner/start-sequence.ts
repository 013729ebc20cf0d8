/**
 * A start-up that can be undone: each step that starts something registers how to stop it, and a
 * step that fails — or an interruption between steps — stops everything already started, newest
 * first, before the failure is reported. Nothing started is left running when start-up does not
 * finish.
 */

/** Thrown by a step boundary once the sequence's signal is aborted (Ctrl-C during start-up). */
export class StartInterrupted extends Error {
  constructor(step: string) {
    super(`interrupted while starting ${step}`);
    this.name = 'StartInterrupted';
  }
}

export class StartSequence {
  readonly #stops: { readonly what: string; readonly stop: () => Promise<void> | void }[] = [];
  #stopping: Promise<void> | null = null;

  constructor(private readonly signal?: AbortSignal, private readonly onStopError: (what: string, e: unknown) => void = () => {}) {}

  /**
   * Runs `start`; registers `stop` for its result. When `start` throws, or the signal was aborted
   * while it ran, everything started so far (this result included) is stopped and the error thrown.
   */
  async start<T>(what: string, start: () => Promise<T> | T, stop: (started: T) => Promise<void> | void): Promise<T> {
    await this.#checkpoint(what);
    let started: T;
    try {
      started = await start();
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.#stops.push({ what, stop: () => stop(started) });
    await this.#checkpoint(what);
    return started;
  }

  /** Runs a step that starts nothing of its own (undone only through the steps before it). */
  async step<T>(what: string, run: () => Promise<T> | T): Promise<T> {
    return this.start(what, run, () => undefined);
  }

  /**
   * Stops everything started so far, newest first; a failing stop is reported and the others still
   * run. Calls queue behind each other, so each resolves once everything started before it is stopped.
   */
  stop(): Promise<void> {
    this.#stopping = (this.#stopping ?? Promise.resolve()).then(async () => {
      for (const { what, stop } of this.#stops.splice(0).reverse()) {
        try {
          await stop();
        } catch (e) {
          this.onStopError(what, e);
        }
      }
    });
    return this.#stopping;
  }

  async #checkpoint(what: string): Promise<void> {
    if (this.signal?.aborted) {
      await this.stop();
      throw new StartInterrupted(what);
    }
  }
}
