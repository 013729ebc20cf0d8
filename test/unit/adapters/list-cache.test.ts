import { describe, expect, it } from 'vitest';
import { ListCache, MAX_POD_COLLECTIONS } from '../../../lib/adapters/kube/list-cache.js';
import type { CollectionSource } from '../../../lib/adapters/kube/watched-collection.js';

interface Obj { readonly metadata: { readonly name: string; readonly namespace?: string; readonly resourceVersion: string } }

/** Sources whose lists hold `size` objects each; records which watches are open. */
function sources(size: (selector: string) => number) {
  const open = new Set<string>();
  const source = (key: string, n: number): CollectionSource<Obj> => ({
    list: () => Promise.resolve({ items: Array.from({ length: n }, (_, i) => ({ metadata: { name: `${key}-${i}`, resourceVersion: '10' } })), resourceVersion: '10', complete: true }),
    probe: () => Promise.resolve('10'),
    watch: () => {
      open.add(key);
      return { stop: () => open.delete(key) };
    },
  });
  return { open, nodes: () => source('nodes', 5), pods: (_ns: string, selector: string) => source(selector, size(selector)) };
}

describe('list cache bounds', () => {
  it('closes the least recently read pod collections beyond the object budget, never the one just read', async () => {
    const s = sources(() => 40);
    const cache = new ListCache<Obj, Obj>(s, { maxObjects: 100 });
    await cache.nodes();
    await cache.pods('ns', 'a');
    await cache.pods('ns', 'b');
    // 5 + 40 + 40 = 85: all kept.
    expect([...s.open].sort()).toEqual(['a', 'b', 'nodes']);
    await cache.pods('ns', 'a'); // a is now the most recently read
    await cache.pods('ns', 'c'); // 125 > 100: b goes
    expect([...s.open].sort()).toEqual(['a', 'c', 'nodes']);
    // A collection above the budget on its own is kept while it is the one being read.
    const big = sources((sel) => (sel === 'huge' ? 500 : 1));
    const bounded = new ListCache<Obj, Obj>(big, { maxObjects: 100 });
    await bounded.pods('ns', 'small');
    const read = await bounded.pods('ns', 'huge');
    expect(read.items).toHaveLength(500);
    expect([...big.open]).toEqual(['huge']);
    cache.close();
    bounded.close();
    expect(s.open.size + big.open.size).toBe(0);
  });

  it(`keeps at most ${MAX_POD_COLLECTIONS} pod collections`, async () => {
    const s = sources(() => 1);
    const cache = new ListCache<Obj, Obj>(s);
    for (let i = 0; i <= MAX_POD_COLLECTIONS; i++) await cache.pods('ns', `s${i}`);
    expect(s.open.size).toBe(MAX_POD_COLLECTIONS);
    expect(s.open.has('s0')).toBe(false);
    // Counts of the closed collection are kept.
    expect(cache.stats().pods.lists).toBe(MAX_POD_COLLECTIONS + 1);
    cache.close();
  });
});
