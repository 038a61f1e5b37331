/**
 * Time is injected so pure logic (rollout, windows) can be tested without timers.
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
}

export const MINUTE = 60_000;

/** The start of the minute `time` falls in: the bucket key of every per-minute count, in memory and in the store. */
export const minuteOf = (time: number): number => Math.floor(time / MINUTE) * MINUTE;

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests can move by hand. */
export function createManualClock(start = 0): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}
