/** Pages through the ListDaemonSets port. */
import { TransientError } from './errors.js';
import type { DaemonSetPage, ListDaemonSets } from './queue.js';

export const DEFAULT_PAGE_SIZE = 500;

/** Yields every page; a page token that repeats is a broken server and fails transiently. */
export async function* daemonSetPages(list: ListDaemonSets, options: { namespace?: string; pageSize?: number } = {}): AsyncGenerator<DaemonSetPage> {
  const seen = new Set<string>();
  let continueToken: string | undefined;
  do {
    const page = await list({ ...(options.namespace === undefined ? {} : { namespace: options.namespace }), limit: options.pageSize ?? DEFAULT_PAGE_SIZE, continueToken });
    yield page;
    continueToken = page.continueToken === '' ? undefined : page.continueToken;
    if (continueToken !== undefined) {
      if (seen.has(continueToken)) throw new TransientError('DaemonSet list returned the same continue token twice');
      seen.add(continueToken);
    }
  } while (continueToken !== undefined);
}
