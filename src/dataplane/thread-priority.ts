/**
 * Background threads (the mirror sender, the comparer) must lose to the
 * proxying thread whenever they compete for a core: their work can wait or be
 * skipped and counted, a client cannot. Linux schedules threads one by one,
 * so changing the calling thread (by its thread id) leaves the proxying
 * thread untouched.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * `idle`: SCHED_IDLE, the thread runs only on CPU time nothing else wants.
 * `nice`: nice 19, weighted down but still able to delay the proxy's wake-ups.
 * `normal`: unchanged, for a thread that has a core of its own.
 */
export type ThreadScheduling = 'normal' | 'nice' | 'idle';

export function isThreadScheduling(value: unknown): value is ThreadScheduling {
  return value === 'normal' || value === 'nice' || value === 'idle';
}

/**
 * The mirror thread's default: `idle` when the proxying threads already have
 * every CPU this process may use, so the thread must take only what they
 * leave; `normal` when a core is spare, because there it competes with no
 * client, and a mirror's measured latency (which shadow-mode gates read)
 * then includes no wait for CPU.
 * @example
 * defaultMirrorScheduling(1, 1); // 'idle'  (pinned to one core)
 * defaultMirrorScheduling(4, 1); // 'normal'
 */
export function defaultMirrorScheduling(cpus: number, proxyingThreads: number): ThreadScheduling {
  return proxyingThreads >= cpus ? 'idle' : 'normal';
}

/** The scheduling an environment variable asks for, or undefined when it is unset or not one of the three. */
export function threadSchedulingFromEnv(name: string): ThreadScheduling | undefined {
  const value = process.env[name];
  return isThreadScheduling(value) ? value : undefined;
}

/**
 * Lowers the calling thread's priority; call it first thing in a worker.
 * Best effort: off Linux, without `chrt`, or when not permitted, the thread
 * keeps what it got.
 * @example
 * lowerThisThreadPriority('idle'); // in a worker_threads entry module
 */
export function lowerThisThreadPriority(scheduling: ThreadScheduling): void {
  if (scheduling === 'normal') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return;
    setPriority(tid, 19);
    if (scheduling === 'idle') execFileSync('chrt', ['--idle', '-p', '0', String(tid)], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // Not Linux, no chrt, or not permitted.
  }
}
