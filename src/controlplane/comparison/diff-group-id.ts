/**
 * A diff group's id is derived from what it groups, so the comparer worker,
 * a restarted cutover and a second data-plane process all fold the same
 * mismatch into the same row without asking the store first.
 */
import { createHash } from 'node:crypto';

/**
 * @example diffGroupId('products', 'GET', '/products', '$.data[*].price', 'value') // 'a3f09c…' (16 hex digits)
 */
export function diffGroupId(route: string, method: string, endpoint: string, path: string, kind: string): string {
  return createHash('sha256').update(`${route}\n${method}\n${endpoint}\n${path}\n${kind}`).digest('hex').slice(0, 16);
}
