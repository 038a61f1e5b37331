/**
 * Rollout plans and gate thresholds as written in cutover.yaml.
 * src/rollout consumes the output types; docs/rollout.md explains every field.
 *
 * This file must not import schema.ts at run time: schema.ts imports this one,
 * and the cycle would leave its exports uninitialized here. That is why the
 * duration field is defined locally.
 */
import { z } from 'zod';
import { durationSchema } from './duration-schema.ts';
import {
  STEP_EXAMPLE,
  STEP_MODES,
  describeModeProblem,
  normalizeStepObject,
  parseStepText,
} from '../rollout/step-syntax.ts';

const durationField = durationSchema;

const positiveDuration = (what: string) =>
  durationField.refine((ms) => ms > 0, `${what} must be longer than 0`);

export const GATE_NAMES = ['errorRate', 'latency', 'mismatch'] as const;
export type BuiltinGateName = (typeof GATE_NAMES)[number];
export const LATENCY_PERCENTILES = ['p95', 'p99'] as const;
export type LatencyPercentile = (typeof LATENCY_PERCENTILES)[number];

export const customGateSchema = z
  .object({
    url: z
      .string()
      .refine((v) => /^https?:\/\/[^/]+/.test(v), 'expected an http:// or https:// URL')
      .meta({ description: 'Called by the rollout driver on every evaluation; a 2xx answer passes, any other answer fails, no answer in time is inconclusive.' }),
    timeout: positiveDuration('timeout').default(5_000).meta({ description: 'How long the driver waits for the check URL.' }),
  })
  .strict();

/**
 * Gate fields without defaults, so the same definitions serve the global
 * `gates:` block (defaults applied) and per-plan overrides (absent = inherit).
 */
const gateFields = {
  require: z
    .array(z.enum(GATE_NAMES))
    .meta({ description: 'Built-in gates that must pass: errorRate, latency, mismatch. Drop mismatch for canary steps without compare.' }),
  confidence: z
    .number()
    .gt(0.5, 'confidence must be more than 0.5')
    .lt(1, 'confidence must be less than 1')
    .meta({ description: 'One-sided confidence of every statistical bound the gates use.' }),
  minRequests: z
    .number()
    .int()
    .nonnegative()
    .meta({ description: 'Error-rate gate: requests needed on each side in the window; fewer is inconclusive, never a failure.' }),
  maxErrorRateIncrease: z
    .number()
    .min(0)
    .max(1)
    .meta({ description: 'Error-rate gate: how much higher the candidate error rate may be, as an absolute fraction (0.01 = one percentage point).' }),
  latencyPercentiles: z
    .array(z.enum(LATENCY_PERCENTILES))
    .meta({ description: 'Latency gate: percentiles compared as candidate/legacy ratios.' }),
  maxLatencyRatio: z
    .number()
    .min(1, 'maxLatencyRatio below 1 would fail a candidate exactly as fast as legacy')
    .meta({ description: 'Latency gate: highest allowed candidate/legacy ratio of each compared percentile.' }),
  latencyToleranceMs: z
    .number()
    .nonnegative()
    .meta({ description: 'Latency gate: a ratio breach counts only if the candidate is also slower by more than this many ms, so sub-millisecond jitter on fast routes is not a failure.' }),
  maxP95Ms: z
    .number()
    .positive()
    .nullable()
    .meta({ description: 'Latency gate: absolute cap on the candidate p95 in ms (null = none).' }),
  maxP99Ms: z
    .number()
    .positive()
    .nullable()
    .meta({ description: 'Latency gate: absolute cap on the candidate p99 in ms (null = none).' }),
  minLatencySamples: z
    .number()
    .int()
    .nonnegative()
    .meta({ description: 'Latency gate: latency samples needed (per side for ratios, candidate for caps); fewer is inconclusive.' }),
  maxMismatchRate: z
    .number()
    .gt(0, 'maxMismatchRate must be more than 0: a zero rate can never be shown with finite traffic; use e.g. 0.001')
    .max(1)
    .meta({ description: 'Mismatch gate: highest allowed mismatch proportion, checked against its exact upper confidence bound.' }),
  minCompared: z
    .number()
    .int()
    .nonnegative()
    .meta({ description: 'Mismatch gate: compared pairs needed in the window; fewer is inconclusive.' }),
  custom: customGateSchema
    .nullable()
    .meta({ description: 'Optional external check (e.g. business metrics). The driver calls the URL; null = no custom gate.' }),
};

export const gatesSchema = z
  .object({
    require: gateFields.require.default(['errorRate', 'latency', 'mismatch']),
    confidence: gateFields.confidence.default(0.95),
    minRequests: gateFields.minRequests.default(200),
    maxErrorRateIncrease: gateFields.maxErrorRateIncrease.default(0.01),
    latencyPercentiles: gateFields.latencyPercentiles.default(['p95', 'p99']),
    maxLatencyRatio: gateFields.maxLatencyRatio.default(1.2),
    latencyToleranceMs: gateFields.latencyToleranceMs.default(0),
    maxP95Ms: gateFields.maxP95Ms.default(null),
    maxP99Ms: gateFields.maxP99Ms.default(null),
    minLatencySamples: gateFields.minLatencySamples.default(200),
    maxMismatchRate: gateFields.maxMismatchRate.default(0.01),
    minCompared: gateFields.minCompared.default(100),
    custom: gateFields.custom.default(null),
  })
  .strict()
  .meta({ description: 'Gate thresholds for every plan; a plan can override any of them under its own `gates:`.' });

/** A plan's `gates:`: any subset of the global fields; absent fields inherit. */
export const gateOverridesSchema = z
  .object(gateFields)
  .partial()
  .strict()
  .meta({ description: 'Overrides of the global gates for this plan only.' });

const sampleCount = z.number().int('sample minimums are whole numbers').nonnegative('sample minimums cannot be negative');

const stepObjectSchema = z
  .object({
    mode: z.enum(STEP_MODES).meta({ description: 'Route mode during the step.' }),
    percent: z.number().optional().meta({ description: 'Canary only: share of users sent to the candidate (0-100].' }),
    duration: z
      .union([z.number().nonnegative(), z.string()])
      .optional()
      .meta({ description: 'Minimum time at this step before it may advance (30s, 10m, 1h).' }),
    minSamples: z
      .object({
        legacy: sampleCount.optional(),
        candidate: sampleCount.optional(),
        compared: sampleCount.optional(),
      })
      .strict()
      .optional()
      .meta({ description: 'Minimum requests per side and compared pairs in the evaluation window before the step may advance.' }),
  })
  .strict();

export const rolloutStepSchema = z
  .union([z.string(), stepObjectSchema], { error: (issue) => stepShapeMessage(issue) })
  .transform((input, ctx) => {
    const result = typeof input === 'string' ? parseStepText(input) : normalizeStepObject(input);
    if (!result.ok) {
      ctx.addIssue({ code: 'custom', message: result.error });
      return z.NEVER;
    }
    return result.step;
  })
  .meta({ description: `A step: "shadow 30m", ${STEP_EXAMPLE}, "canary 25%", "live 1h", "candidate", or the object form.` });

export const ON_FAIL_ACTIONS = ['rollback', 'rampdown', 'pause'] as const;
export type OnFailAction = (typeof ON_FAIL_ACTIONS)[number];

export const rolloutPlanSchema = z
  .object({
    steps: z
      .array(rolloutStepSchema)
      .min(1, 'a plan needs at least one step')
      .meta({ description: 'Ordered steps; after the last one the route is in candidate mode and the rollout is completed.' }),
    onFail: z
      .enum(ON_FAIL_ACTIONS)
      .default('rollback')
      .meta({ description: 'When a gate keeps failing: rollback (legacy at once), rampdown (one step down per failure), or pause.' }),
    inconclusiveDeadline: positiveDuration('inconclusiveDeadline')
      .default(3_600_000)
      .meta({ description: 'Gates undecided for this long → pause and ask a human.' }),
    interval: positiveDuration('interval').default(30_000).meta({ description: 'How often the driver evaluates the gates.' }),
    window: positiveDuration('window').default(600_000).meta({ description: 'Telemetry window the gates look at (never reaching back before the current step began).' }),
    failureThreshold: z
      .number()
      .int()
      .min(1)
      .default(2)
      .meta({ description: 'Failing evaluations in a row (not interrupted by a passing one) before onFail acts.' }),
    gates: gateOverridesSchema.default({}),
  })
  .strict()
  .superRefine((plan, ctx) => {
    plan.steps.forEach((step, i) => {
      if (step.mode === 'candidate' && i !== plan.steps.length - 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i],
          message: 'candidate completes the rollout, so it can only be the last step',
        });
      }
    });
  });

export type GatesConfig = z.output<typeof gatesSchema>;
export type GateOverridesConfig = z.output<typeof gateOverridesSchema>;
export type CustomGateConfig = z.output<typeof customGateSchema>;
export type RolloutPlanConfig = z.output<typeof rolloutPlanSchema>;
export type RolloutPlanInput = z.input<typeof rolloutPlanSchema>;

interface UnionIssueLike {
  code?: string;
  input?: unknown;
  errors?: ReadonlyArray<ReadonlyArray<{ path?: ReadonlyArray<PropertyKey>; message?: string; code?: string }>>;
}

/** A union failure names no branch; say what is wrong with the step instead. */
function stepShapeMessage(issue: UnionIssueLike): string | undefined {
  if (issue.code !== 'invalid_union') return undefined;
  const input = issue.input;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return `a step is a string such as ${STEP_EXAMPLE} or an object with mode, percent, duration and minSamples`;
  }
  const objectIssue = issue.errors?.[1]?.[0];
  const path = (objectIssue?.path ?? []).map(String).join('.');
  if (path === 'mode') {
    const mode = (input as { mode?: unknown }).mode;
    return `step: ${mode === undefined ? 'mode is required' : describeModeProblem(mode)}`;
  }
  return `step: ${path === '' ? '' : `${path}: `}${objectIssue?.message ?? 'invalid step'}`;
}
