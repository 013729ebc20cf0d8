/** Bounded polling, like upstream's wait.Poll: retries `fn` until it stops throwing, or fails with its last error. */
export async function eventually<T>(fn: () => Promise<T> | T, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const msg = last instanceof Error ? last.message : String(last);
  throw new Error(`${options.what ?? 'condition'} not met within ${timeoutMs} ms: ${msg}`, { cause: last });
}
