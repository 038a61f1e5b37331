/**
 * A circuit breaker for mirrored traffic. A candidate that hangs or refuses
 * would otherwise hold every shadow slot until its timeout, then take a new
 * connection for each queued mirror, again and again: work on the proxying
 * thread that buys no comparison. After `failures` mirrors in a row fail, the
 * breaker stops sending mirrors to that backend for `cooldownMs`, then lets
 * one trial through; the trial's outcome closes it or opens it again for
 * twice as long (up to `maxCooldownMs`).
 *
 * Only transport failures count (timeout, refused, reset, protocol error): a
 * 500 from the candidate is an answer, and the comparison's business.
 */

export type BreakerState = 'closed' | 'open' | 'half_open';

/** What `admit` decided: refused, a normal mirror, or the one trial of a half-open breaker. */
export type Admission = 'refused' | 'normal' | 'trial';

export interface BreakerChange {
  state: BreakerState;
  /** Failures in a row that led here (0 when closing). */
  failures: number;
  /** How long the breaker stays open (0 unless opening). */
  cooldownMs: number;
}

export interface MirrorBreakerOptions {
  /** Consecutive failures that open the breaker; 0 disables it. */
  failures: number;
  cooldownMs: number;
  maxCooldownMs?: number;
  onChange?: (change: BreakerChange) => void;
}

export interface MirrorBreaker {
  admit(now: number): Admission;
  /**
   * True when `admit(now)` would refuse, without taking the half-open trial:
   * lets a caller skip the work of preparing a mirror that cannot be sent.
   */
  refusing(now: number): boolean;
  record(admission: Admission, ok: boolean, now: number): void;
  readonly state: BreakerState;
}

const ALWAYS: MirrorBreaker = {
  admit: () => 'normal',
  refusing: () => false,
  record: () => {},
  state: 'closed',
};

/**
 * @example
 * const breaker = createMirrorBreaker({ failures: 10, cooldownMs: 5_000 });
 * const admission = breaker.admit(performance.now());
 * if (admission !== 'refused') sendMirror((ok) => breaker.record(admission, ok, performance.now()));
 */
export function createMirrorBreaker(options: MirrorBreakerOptions): MirrorBreaker {
  if (options.failures <= 0) return ALWAYS;
  const maxCooldown = options.maxCooldownMs ?? Math.max(options.cooldownMs, 60_000);
  let state: BreakerState = 'closed';
  let consecutive = 0;
  let cooldown = options.cooldownMs;
  let openUntil = 0;
  let trialInFlight = false;

  const open = (now: number): void => {
    state = 'open';
    openUntil = now + cooldown;
    options.onChange?.({ state, failures: consecutive, cooldownMs: cooldown });
  };

  return {
    get state() {
      return state;
    },
    refusing(now) {
      if (state === 'closed') return false;
      if (state === 'open' && now < openUntil) return true;
      return trialInFlight;
    },
    admit(now) {
      if (state === 'closed') return 'normal';
      if (state === 'open') {
        if (now < openUntil) return 'refused';
        state = 'half_open';
        options.onChange?.({ state, failures: consecutive, cooldownMs: 0 });
      }
      if (trialInFlight) return 'refused';
      trialInFlight = true;
      return 'trial';
    },
    record(admission, ok, now) {
      if (admission === 'trial') {
        trialInFlight = false;
        if (ok) {
          state = 'closed';
          consecutive = 0;
          cooldown = options.cooldownMs;
          options.onChange?.({ state, failures: 0, cooldownMs: 0 });
        } else {
          consecutive++;
          cooldown = Math.min(cooldown * 2, maxCooldown);
          open(now);
        }
        return;
      }
      // Mirrors sent before the breaker opened finish while it is open; they tell nothing new.
      if (state !== 'closed') return;
      if (ok) {
        consecutive = 0;
        return;
      }
      if (++consecutive >= options.failures) open(now);
    },
  };
}
