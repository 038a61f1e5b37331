/**
 * One-sided confidence bounds for proportions and for the difference of two
 * proportions. Every bound here is one-sided at the given z or confidence:
 * a gate asks "is it at most X?" or "is it more than X?", never both at once.
 */
import { betaQuantile } from './incomplete-beta.ts';

export interface Bounds {
  lower: number;
  upper: number;
}

/**
 * Wilson score bounds for `successes` out of `n` at normal quantile `z`.
 * Unlike the textbook p ± z·se, it behaves at 0 and n successes (a side with
 * no errors still gets a positive upper bound of about z²/n).
 *
 * @example wilsonBounds(0, 1000, 1.645) // { lower: 0, upper: ≈0.0027 }
 */
export function wilsonBounds(successes: number, n: number, z: number): Bounds {
  if (n <= 0) return { lower: 0, upper: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/**
 * Exact (Clopper-Pearson) one-sided bounds at `confidence`: `upper` is the
 * largest rate that still makes seeing at most `successes` plausible, `lower`
 * the smallest that makes at least `successes` plausible. With 0 successes the
 * upper bound is 1 − (1 − confidence)^(1/n), the "rule of three" ≈ 3/n at 95%.
 *
 * @example clopperPearsonBounds(0, 1000, 0.95).upper // ≈ 0.002991
 */
export function clopperPearsonBounds(successes: number, n: number, confidence: number): Bounds {
  if (n <= 0) return { lower: 0, upper: 1 };
  const alpha = 1 - confidence;
  let lower: number;
  let upper: number;
  if (successes <= 0) lower = 0;
  else if (successes >= n) lower = Math.exp(Math.log(alpha) / n);
  else lower = betaQuantile(alpha, successes, n - successes + 1);
  if (successes >= n) upper = 1;
  else if (successes <= 0) upper = -Math.expm1(Math.log(alpha) / n);
  else upper = betaQuantile(confidence, successes + 1, n - successes);
  return { lower, upper };
}

export interface DifferenceBounds extends Bounds {
  /** Point estimate p1 − p2. */
  difference: number;
}

/**
 * Newcombe's hybrid score bounds for p1 − p2, built from each side's Wilson
 * bounds. It keeps its coverage when one side has no errors at all, where the
 * plain two-proportion z-test has zero variance and claims certainty.
 *
 * @example
 * // 5% errors on the candidate vs none on legacy, 1000 requests each:
 * differenceBounds(50, 1000, 0, 1000, 1.645) // { difference: 0.05, lower: ≈0.038, … }
 */
export function differenceBounds(x1: number, n1: number, x2: number, n2: number, z: number): DifferenceBounds {
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  const b1 = wilsonBounds(x1, n1, z);
  const b2 = wilsonBounds(x2, n2, z);
  const difference = p1 - p2;
  const lower = difference - Math.sqrt((p1 - b1.lower) ** 2 + (b2.upper - p2) ** 2);
  const upper = difference + Math.sqrt((b1.upper - p1) ** 2 + (p2 - b2.lower) ** 2);
  return { difference, lower: Math.max(-1, lower), upper: Math.min(1, upper) };
}
