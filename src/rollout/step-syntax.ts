/**
 * The grammar of one rollout step, shared by the compact string form
 * (`canary 10% 30m`) and the object form
 * (`{ mode: canary, percent: 10, duration: 30m, minSamples: { candidate: 200 } }`),
 * so both produce the same step and the same error messages.
 *
 * It lives here rather than in src/config so it stays free of zod and can be
 * reused by the admin API (a plan posted at run time goes through it too).
 */
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import { formatDuration, tryParseDuration } from '../core/duration.ts';

/** Modes a step can put a route in. `legacy` is not one: it is where a rollout starts and where rollback returns. */
export const STEP_MODES = ['shadow', 'canary', 'live', 'candidate'] as const;
export type StepMode = (typeof STEP_MODES)[number];

export interface StepSampleMinimums {
  /** Legacy requests in the evaluation window. */
  legacy: number;
  /** Candidate requests in the evaluation window. */
  candidate: number;
  /** Compared (shadow or canary-compare) request pairs in the evaluation window. */
  compared: number;
}

/** One normalized step. `percent` is 0 except for canary; `duration` is milliseconds (0 = no minimum). */
export interface RolloutStep {
  mode: StepMode;
  percent: number;
  duration: number;
  minSamples: StepSampleMinimums;
}

/** The object form before normalization, as written in YAML. */
export interface StepObjectInput {
  mode: string;
  percent?: number | undefined;
  duration?: number | string | undefined;
  minSamples?: Partial<StepSampleMinimums> | undefined;
}

export type StepParseResult = { ok: true; step: RolloutStep } | { ok: false; error: string };

export const STEP_EXAMPLE = '"canary 10% 30m"';

/**
 * Parses the compact form: a mode, then a percent (canary only) and/or a
 * minimum duration, in any order.
 *
 * @example
 * parseStepText('canary 10% 30m')
 * // { ok: true, step: { mode: 'canary', percent: 10, duration: 1800000, minSamples: { legacy: 0, candidate: 0, compared: 0 } } }
 * parseStepText('canary')
 * // { ok: false, error: 'step "canary": canary needs a percent, e.g. "canary 10% 30m"' }
 */
export function parseStepText(text: string): StepParseResult {
  const tokens = text.trim().split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) return { ok: false, error: `a step cannot be empty; write e.g. ${STEP_EXAMPLE}` };
  const where = `step "${text.trim()}"`;
  const [modeToken, ...rest] = tokens as [string, ...string[]];
  const modeProblem = describeModeProblem(modeToken);
  if (modeProblem) return { ok: false, error: `${where}: ${modeProblem}` };
  let percent: number | undefined;
  let duration: number | undefined;
  for (const token of rest) {
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(token);
    if (pct) {
      if (percent !== undefined) return { ok: false, error: `${where}: more than one percent` };
      percent = Number(pct[1]);
      continue;
    }
    if (/^\d+(?:\.\d+)?$/.test(token)) {
      return { ok: false, error: `${where}: "${token}" needs a unit: ${token}% for a percent or ${token}m for a duration` };
    }
    const ms = tryParseDuration(token);
    if (ms === undefined) {
      return { ok: false, error: `${where}: "${token}" is neither a percent (10%) nor a duration (30s, 10m, 1h)` };
    }
    if (duration !== undefined) return { ok: false, error: `${where}: more than one duration` };
    duration = ms;
  }
  return buildStep(where, modeToken as StepMode, percent, duration, undefined);
}

/**
 * Normalizes the object form (already shape-checked by the config schema).
 *
 * @example
 * normalizeStepObject({ mode: 'canary', percent: 10, duration: '30m', minSamples: { candidate: 200 } })
 */
export function normalizeStepObject(input: StepObjectInput): StepParseResult {
  const where = `step { mode: ${input.mode}${input.percent === undefined ? '' : `, percent: ${input.percent}`} }`;
  const modeProblem = describeModeProblem(input.mode);
  if (modeProblem) return { ok: false, error: `${where}: ${modeProblem}` };
  let duration: number | undefined;
  if (input.duration !== undefined) {
    duration = tryParseDuration(input.duration);
    if (duration === undefined) {
      return { ok: false, error: `${where}: duration "${input.duration}" is not a duration; write 30s, 10m or 1h` };
    }
  }
  return buildStep(where, input.mode as StepMode, input.percent, duration, input.minSamples);
}

/**
 * Parses either form and throws a coded error on a bad step; for callers
 * outside the config loader (API, CLI, tests).
 *
 * @example parseStep('shadow 30m').duration // 1800000
 */
export function parseStep(input: string | StepObjectInput): RolloutStep {
  const result = typeof input === 'string' ? parseStepText(input) : normalizeStepObject(input);
  if (!result.ok) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, result.error, {
      hint: `steps look like "shadow 30m", ${STEP_EXAMPLE}, "live 1h" or "candidate"`,
    });
  }
  return result.step;
}

/**
 * Why `mode` is not a step mode, or undefined when it is one.
 *
 * @example describeModeProblem('canery') // 'unknown mode "canery" (did you mean canary?); use shadow, canary, live or candidate'
 */
export function describeModeProblem(mode: unknown): string | undefined {
  if (typeof mode === 'string' && (STEP_MODES as readonly string[]).includes(mode)) return undefined;
  if (mode === 'legacy') {
    return 'legacy is not a step: a rollout starts from legacy and rollback returns there';
  }
  const text = typeof mode === 'string' ? mode : JSON.stringify(mode);
  const guess = typeof mode === 'string' ? closestMode(mode) : undefined;
  return `unknown mode "${text}"${guess ? ` (did you mean ${guess}?)` : ''}; use ${STEP_MODES.slice(0, -1).join(', ')} or candidate`;
}

/**
 * The compact form of a normalized step, for logs, audit entries and the CLI.
 *
 * @example formatStep({ mode: 'canary', percent: 10, duration: 1_800_000, minSamples }) // 'canary 10% 30m'
 */
export function formatStep(step: RolloutStep): string {
  const parts: string[] = [step.mode];
  if (step.mode === 'canary') parts.push(`${step.percent}%`);
  if (step.duration > 0) parts.push(formatDuration(step.duration));
  return parts.join(' ');
}

function buildStep(
  where: string,
  mode: StepMode,
  percent: number | undefined,
  duration: number | undefined,
  minSamples: Partial<StepSampleMinimums> | undefined,
): StepParseResult {
  if (mode === 'canary') {
    if (percent === undefined) return { ok: false, error: `${where}: canary needs a percent, e.g. ${STEP_EXAMPLE}` };
    if (!(percent > 0 && percent <= 100)) {
      return { ok: false, error: `${where}: percent must be more than 0 and at most 100 (got ${percent})` };
    }
    // Same resolution as route percents in the main schema, so a step never asks the data plane for a split it cannot do.
    if (Math.abs(Math.round(percent * 100) - percent * 100) > 1e-9) {
      return { ok: false, error: `${where}: percent has 0.01 steps at most (got ${percent})` };
    }
  } else if (percent !== undefined) {
    return { ok: false, error: `${where}: only canary steps take a percent` };
  }
  if (mode === 'candidate' && ((duration ?? 0) > 0 || minSamples !== undefined)) {
    return {
      ok: false,
      error: `${where}: candidate takes no duration or sample minimum, because reaching it completes the rollout; hold with "live 1h" before it instead`,
    };
  }
  for (const [side, value] of Object.entries(minSamples ?? {})) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      return { ok: false, error: `${where}: minSamples.${side} must be a whole number ≥ 0 (got ${value})` };
    }
  }
  return {
    ok: true,
    step: {
      mode,
      percent: mode === 'canary' ? percent! : 0,
      duration: duration ?? 0,
      minSamples: {
        legacy: minSamples?.legacy ?? 0,
        candidate: minSamples?.candidate ?? 0,
        compared: minSamples?.compared ?? 0,
      },
    },
  };
}

function closestMode(word: string): StepMode | undefined {
  const lower = word.toLowerCase();
  let best: StepMode | undefined;
  let bestDistance = 3;
  for (const mode of STEP_MODES) {
    const d = editDistance(lower, mode);
    if (d < bestDistance) {
      best = mode;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
