/**
 * Canary assignment. A key is hashed with its route's salt into one of 10,000
 * buckets (0.01 % steps); the request goes to the candidate when its bucket is
 * below percent × 100. The bucket of a key never changes, so raising the
 * percent only adds keys: everyone in the 10 % set stays in at 25 % and 50 %.
 * The hash is plain arithmetic on the key's UTF-16 code units, so every worker,
 * instance and restart agrees without shared state.
 */
export const BUCKETS = 10_000;

/** FNV-1a over the salt and key, finished with murmur3's fmix32 so close keys spread evenly. */
export function stickyBucket(salt: string, key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < salt.length; i++) {
    h ^= salt.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= 0x3a; // separator, so ("ab","c") and ("a","bc") differ
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % BUCKETS;
}

/** Percent (0..100, 0.01 steps) to the bucket threshold. */
export function percentToThreshold(percent: number): number {
  return Math.round(percent * 100);
}

/**
 * @example
 * inCanary('checkout', 'user-42', 1000) // true when user-42's bucket < 1000 (10 %)
 */
export function inCanary(salt: string, key: string, threshold: number): boolean {
  return stickyBucket(salt, key) < threshold;
}
