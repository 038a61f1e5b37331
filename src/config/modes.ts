/**
 * Route modes and backend names, in a module of their own so the CLI can
 * name them without loading the whole config schema (and zod).
 */
export const MODES = ['legacy', 'candidate', 'canary', 'shadow', 'live'] as const;
export type Mode = (typeof MODES)[number];

export const BACKEND_NAMES = ['legacy', 'candidate', 'replica'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
