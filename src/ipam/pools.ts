// Choosing pools inside an address space: the overlap rule for static pools and the search of
// the next free default pool, skipping pools in use, the host's routes and the caller's
// exclusions. Pure.
import { lastAddress, type Prefix, prefixesOverlap, prefixSize } from '../ip/address';
import type { PoolTemplate } from './defaults';

/** The first of `taken` that overlaps `prefix`, or undefined. */
export function findOverlap<T extends { prefix: Prefix }>(prefix: Prefix, taken: Iterable<T>): T | undefined {
  for (const t of taken) if (prefixesOverlap(t.prefix, prefix)) return t;
  return undefined;
}

/**
 * The first pool cut from the templates, in order, that overlaps none of `avoid`. A candidate
 * that overlaps something jumps past it whole, so the search costs O(templates + avoid²) at
 * worst, not O(candidates) (10.0.0.0/8 has 65,536 /24s).
 */
export function nextDefaultPool(templates: readonly PoolTemplate[], version: 4 | 6, avoid: readonly Prefix[]): Prefix | undefined {
  for (const template of templates) {
    if (template.base.version !== version) continue;
    const step = prefixSize({ version, base: 0n, length: template.size });
    const end = lastAddress(template.base);
    let base = template.base.base;
    while (base <= end) {
      const candidate: Prefix = { version, base, length: template.size };
      const blocker = avoid.find((a) => prefixesOverlap(a, candidate));
      if (!blocker) return candidate;
      // Next candidate: the first aligned one after the blocker (and after this candidate).
      const past = lastAddress(blocker) + 1n;
      const aligned = template.base.base + ((past - template.base.base + step - 1n) / step) * step;
      base = aligned > base ? aligned : base + step;
    }
  }
  return undefined;
}
