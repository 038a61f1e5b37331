/**
 * Settings a running cutover reads once, at start: a reload takes the rest of
 * the file, and these only after a restart. Listing them keeps an operator
 * from believing a changed port or store is in effect because the reload
 * said "reloaded".
 */
import type { CutoverConfig } from './schema.ts';

const RESTART_ONLY: ReadonlyArray<readonly string[]> = [['listen'], ['admin', 'listen'], ['admin', 'token'], ['admin', 'metricsListen'], ['dataDir'], ['store'], ['workers']];

const at = (config: CutoverConfig, path: readonly string[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], config);

/**
 * Key paths whose value differs between the running config and a reloaded one, among those read only at start.
 * @example
 * restartOnlyChanges(running, next); // ['listen', 'workers']
 */
export function restartOnlyChanges(running: CutoverConfig, next: CutoverConfig): string[] {
  return RESTART_ONLY.filter((path) => JSON.stringify(at(running, path)) !== JSON.stringify(at(next, path))).map((path) => path.join('.'));
}
