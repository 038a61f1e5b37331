/**
 * The single source of truth for cutover.yaml. Everything else (the JSON
 * Schema in docs/, defaults, the admin API's accepted modes) derives from here.
 */
import { z } from 'zod';
import { parseAddressRange } from '../core/address-range.ts';
import { durationSchema } from './duration-schema.ts';
import { BACKEND_NAMES, MODES, type BackendName, type Mode } from './modes.ts';
import { compareRulesSchema, rulePathSchema } from './compare-schema.ts';
import { rolloutPlanSchema, gatesSchema } from './rollout-schema.ts';
import { resolvePlanTargets } from '../rollout/plan-targets.ts';

export { durationSchema };

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8080');

export { BACKEND_NAMES, MODES, type BackendName, type Mode };

export const backendSchema = z
  .object({
    url: z
      .string()
      .refine((v) => /^https?:\/\/[^/]+/.test(v), 'expected an http:// or https:// URL, e.g. http://127.0.0.1:8001')
      .meta({ description: 'Base URL. A path here is a prefix put before every request path.' }),
    host: z
      .string()
      .default('preserve')
      .meta({ description: '`preserve` passes the client Host header, `rewrite` uses the backend URL host, anything else is sent as-is.' }),
    headers: z.record(z.string(), z.string()).default({}).meta({ description: 'Extra request headers sent to this backend (e.g. its own auth).' }),
    ca: z.string().optional().meta({ description: 'Path to a PEM CA bundle for an https backend.' }),
    rejectUnauthorized: z.boolean().default(true),
    connections: z.number().int().positive().default(256).meta({ description: 'Keep-alive pool size.' }),
    timeouts: z
      .object({
        connect: durationSchema.default(5_000),
        headers: durationSchema.default(30_000),
        idle: durationSchema.default(60_000),
      })
      .prefault({}),
    health: z
      .object({
        path: z.string().startsWith('/').optional().meta({ description: 'HTTP path probed with GET (healthy when < 500). Without it, a TCP connect is the probe.' }),
        interval: durationSchema.default(5_000),
        timeout: durationSchema.default(2_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const stickinessSchema = z
  .string()
  .regex(
    /^(header:[A-Za-z0-9!#$%&'*+.^_`|~-]+|cookie:[^\s;=]+|query:[^\s&=]+|ip|random)$/,
    'expected header:NAME, cookie:NAME, query:NAME, ip or random',
  )
  .meta({ description: 'What keeps a user on one side: header:NAME, cookie:NAME, query:NAME, ip or random.' });


export const percentSchema = z
  .number()
  .min(0)
  .max(100)
  .refine((v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-9, 'percent has 0.01 steps at most');

/** Shadow settings without defaults: a route's block overrides only the keys it sets, the rest come from defaults.shadow. */
const shadowFields = {
  sample: z.number().min(0).max(1).meta({ description: 'Fraction of eligible requests mirrored (0..1).' }),
  timeout: durationSchema,
  maxConcurrency: z.number().int().positive(),
  maxQueue: z.number().int().nonnegative(),
  captureLimit: z.number().int().positive().meta({ description: 'Bytes of body captured for comparison.' }),
  mirrorUnsafe: z.boolean().meta({ description: 'Mirror POST/PUT/PATCH/DELETE too. Only when the candidate has its own data store.' }),
  noiseSample: z.number().min(0).max(1).meta({ description: 'Without a replica: fraction of mirrored safe requests sent to legacy twice to learn noise.' }),
};

export const shadowSchema = z
  .object({
    sample: shadowFields.sample.default(1),
    timeout: shadowFields.timeout.default(10_000),
    maxConcurrency: shadowFields.maxConcurrency.default(64),
    maxQueue: shadowFields.maxQueue.default(256),
    captureLimit: shadowFields.captureLimit.default(1024 * 1024),
    mirrorUnsafe: shadowFields.mirrorUnsafe.default(false),
    noiseSample: shadowFields.noiseSample.default(0.01),
    breaker: z
      .object({
        failures: z.number().int().nonnegative().default(10).meta({ description: 'Mirrors to one backend that fail in a row (timeout, refused, reset) before mirroring to it pauses; 0 = never pause.' }),
        cooldown: durationSchema.default(5_000).meta({ description: 'How long mirroring pauses; then one trial mirror decides, and each failed trial doubles the pause (at most 60s).' }),
      })
      .strict()
      .default({ failures: 10, cooldown: 5_000 })
      .meta({ description: 'Circuit breaker for mirrored traffic, per backend: a hung or refusing candidate costs the proxy nothing while it is down.' }),
  })
  .strict();

// zod 4 applies an inner .default() even under .partial(), so the route form is built from the bare fields.
const routeShadowSchema = z
  .object({
    sample: shadowFields.sample.optional(),
    timeout: shadowFields.timeout.optional(),
    maxConcurrency: shadowFields.maxConcurrency.optional(),
    maxQueue: shadowFields.maxQueue.optional(),
    captureLimit: shadowFields.captureLimit.optional(),
    mirrorUnsafe: shadowFields.mirrorUnsafe.optional(),
    noiseSample: shadowFields.noiseSample.optional(),
  })
  .strict();

const matchSchema = z
  .object({
    methods: z.array(z.string().regex(/^[A-Z]+$/, 'methods are upper-case, e.g. GET')).optional(),
    path: z.string().startsWith('/', 'paths start with /').optional().meta({ description: 'Template (/api/token/:mint/safety, /static/*), exact path, or prefix.' }),
    pathType: z.enum(['template', 'exact', 'prefix']).optional().meta({ description: 'Defaults to template when the path has :params or *, else exact.' }),
    headers: z.record(z.string(), z.string()).optional().meta({ description: 'Header values that must match exactly.' }),
  })
  .strict();

export const routeSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'ids are 1-64 letters, digits, . _ -'),
    match: matchSchema.prefault({}),
    mode: z.enum(MODES).optional(),
    percent: percentSchema.optional(),
    stickiness: stickinessSchema.optional(),
    fallback: z.enum(['none', 'legacy']).optional(),
    compare: z.boolean().optional().meta({ description: 'In canary mode, also send each request to the side that did not serve it.' }),
    shadow: routeShadowSchema.optional().meta({ description: 'Overrides of defaults.shadow for this route; keys not set here come from defaults.shadow.' }),
    rules: compareRulesSchema.optional(),
    component: z.string().optional().meta({ description: 'Group of routes that roll out together.' }),
  })
  .strict();

export const configSchema = z
  .object({
    version: z.literal(1).default(1),
    listen: hostPort.default('127.0.0.1:8080'),
    admin: z
      .object({
        listen: hostPort.default('127.0.0.1:9090'),
        token: z.string().min(16, 'use a token of 16 characters or more').optional(),
        metricsListen: hostPort.optional().meta({ description: 'Serve /metrics on its own listener as well.' }),
      })
      .strict()
      .prefault({}),
    dataDir: z.string().default('./.cutover'),
    store: z
      .object({
        kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
        url: z.string().optional().meta({ description: 'postgres://… when kind is postgres.' }),
      })
      .strict()
      .prefault({}),
    workers: z.union([z.number().int().positive().max(256), z.literal('auto')]).default(1),
    shutdownTimeout: durationSchema.default(10_000),
    backends: z
      .object({
        legacy: backendSchema,
        candidate: backendSchema,
        replica: backendSchema.optional(),
      })
      .strict(),
    defaults: z
      .object({
        mode: z.enum(MODES).default('legacy'),
        percent: percentSchema.default(0),
        stickiness: stickinessSchema.default('random'),
        fallback: z.enum(['none', 'legacy']).default('none'),
        shadow: shadowSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    tls: z
      .object({
        cert: z.string().min(1).meta({ description: 'PEM file with the certificate chain, the server certificate first.' }),
        key: z.string().min(1).meta({ description: 'PEM file with the private key of that certificate (unencrypted).' }),
      })
      .strict()
      .optional()
      .meta({
        description:
          'Terminate TLS on the proxy listener (`listen`): HTTP/1.1 and WebSockets over TLS. Both files are read at start and again at every reload (SIGHUP, or a change to the config file), so a renewed certificate takes effect for new connections without a restart. Turning TLS on or off needs a restart. Relative paths are taken from the working directory.',
      }),
    trustedProxies: z
      .array(
        z.string().refine((v) => parseAddressRange(v) !== undefined, {
          message: 'expected an IP address or a CIDR range, such as 10.0.0.0/8, 192.0.2.7 or fd00::/8',
        }),
      )
      .default([])
      .meta({
        description:
          'Load balancers in front of cutover (IP addresses or CIDR ranges). A request from one of them is attributed to the address it forwarded for (X-Forwarded-For, read from the right): for `ip` stickiness, for requests without their stickiness key, and in the access log.',
      }),
    override: z
      .object({
        header: z.string().default('x-cutover-backend'),
        secret: z.string().min(8, 'use a secret of 8 characters or more'),
      })
      .strict()
      .optional()
      .meta({ description: 'Tester override: a request carrying `HEADER: legacy|candidate;SECRET` goes to that backend. Off unless set.' }),
    routes: z.array(routeSchema).default([]),
    compare: compareRulesSchema.prefault({}),
    telemetry: z
      .object({
        accessLog: z.enum(['off', 'sampled', 'full']).default('off'),
        accessLogSample: z.number().min(0).max(1).default(0.01),
        accessLogFile: z.string().optional().meta({ description: 'Defaults to standard output.' }),
        enabled: z.boolean().default(true),
        retention: durationSchema
          .default(3_600_000)
          .refine((ms) => ms >= 3_600_000 && ms <= 86_400_000, 'keep between 1h and 24h of per-minute buckets')
          .meta({ description: 'How much of the per-minute window is kept in memory and reloaded from the store on start.' }),
        maxEndpointsPerRoute: z
          .number()
          .int()
          .positive()
          .max(10_000)
          .default(200)
          .meta({ description: 'Distinct endpoint labels per route; later endpoints are counted as `{other}`.' }),
        latencyBuckets: z
          .array(z.number().positive())
          .min(1)
          .refine((b) => b.every((v, i) => i === 0 || v > b[i - 1]!), 'buckets must be strictly ascending')
          .optional()
          .meta({ description: 'Prometheus histogram upper bounds in seconds; the default spans 100µs to 10s.' }),
      })
      .strict()
      .prefault({}),
    results: z
      .object({
        samplesPerGroup: z.number().int().nonnegative().default(5),
        retention: durationSchema.default(7 * 86_400_000),
        maxRows: z.number().int().positive().default(1_000_000),
        redactHeaders: z.array(z.string()).default([]),
        redactPaths: z.array(rulePathSchema).default([]),
      })
      .strict()
      .prefault({}),
    gates: gatesSchema.prefault({}),
    report: z
      .object({
        since: durationSchema.default(86_400_000).meta({ description: '`cutover report` looks back this far unless --since says otherwise.' }),
        criteria: z
          .object({
            maxP95Ratio: z
              .number()
              .positive()
              .default(1.1)
              .meta({ description: 'Candidate p95 / legacy p95 must be at most this. 1.1 = "not more than 10% slower"; 0.7 = "at least 30% faster".' }),
            errorRateMargin: z
              .number()
              .min(0)
              .max(1)
              .default(0.01)
              .meta({ description: "The candidate's error rate (95% upper bound) may exceed legacy's observed rate by at most this fraction (0.01 = one percentage point)." }),
            maxMismatchRate: z
              .number()
              .min(0)
              .max(1)
              .optional()
              .meta({ description: 'When set, the mismatch rate (95% upper bound) must be at most this. Open mismatch groups block whatever this says.' }),
            minCompared: z.number().int().nonnegative().default(100).meta({ description: 'Fewer compared pairs than this on an endpoint is "insufficient data".' }),
            minRequests: z
              .number()
              .int()
              .nonnegative()
              .default(100)
              .meta({ description: 'Fewer responses than this from either backend is "insufficient data" for the latency and error-rate criteria.' }),
          })
          .strict()
          .prefault({})
          .meta({ description: 'What an endpoint must show to be Go; see docs/report.md.' }),
      })
      .strict()
      .prefault({})
      .meta({ description: 'Go/No-Go criteria for `cutover report`; command-line flags override them.' }),
    plans: z.record(z.string(), rolloutPlanSchema).default({}).meta({ description: 'Rollout plans keyed by route id or component name.' }),
    killSwitch: z
      .object({
        env: z.string().default('CUTOVER_KILL_SWITCH'),
        file: z.string().optional().meta({ description: 'When this file exists at start or on SIGHUP, every route goes to legacy.' }),
      })
      .strict()
      .prefault({}),
    notifications: z
      .object({
        webhooks: z
          .array(
            z
              .object({
                url: z.string().url(),
                format: z.enum(['json', 'slack']).default('json'),
                headers: z.record(z.string(), z.string()).default({}),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    cfg.routes.forEach((route, i) => {
      const prev = seen.get(route.id);
      if (prev !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'id'], message: `duplicate route id "${route.id}" (first used by routes[${prev}])` });
      } else seen.set(route.id, i);
      if (route.id === 'default') {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'id'], message: '"default" is reserved for the catch-all route; configure it under defaults' });
      }
      if (route.mode === 'canary' && route.percent === undefined) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'percent'], message: 'canary mode needs a percent (0-100)' });
      }
    });
    // A plan must drive something, and no route may be driven by two plans.
    const routeRefs = [{ id: 'default' }, ...cfg.routes.map((r) => ({ id: r.id, component: r.component }))];
    const keys = Object.keys(cfg.plans);
    for (const key of keys) {
      for (const problem of resolvePlanTargets(routeRefs, [key]).problems) ctx.addIssue({ code: 'custom', path: ['plans', key], message: problem });
    }
    const single = new Set(keys.filter((k) => resolvePlanTargets(routeRefs, [k]).problems.length === 0));
    for (const problem of resolvePlanTargets(routeRefs, [...single]).problems) ctx.addIssue({ code: 'custom', path: ['plans'], message: problem });
  });

/** The validated, defaulted config. Frozen by load.ts. */
export type CutoverConfig = z.output<typeof configSchema>;
export type CutoverConfigInput = z.input<typeof configSchema>;
export type BackendConfig = z.output<typeof backendSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type ShadowConfig = z.output<typeof shadowSchema>;
export type TlsConfig = NonNullable<CutoverConfig['tls']>;
