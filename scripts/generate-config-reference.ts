/**
 * Writes docs/configuration.md: every key of cutover.yaml with its type,
 * default and meaning, generated from the zod schema (through the JSON Schema
 * of scripts/generate-schema.ts, input side). `npm run schema` regenerates it
 * together with docs/cutover.schema.json; test/unit/config/schema-sync.test.ts
 * fails when the committed file is stale.
 *
 * Meanings come from the schema's own `.meta({ description })`; the few keys
 * without one are described below, keyed by their path.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDuration } from '../src/core/duration.ts';
import { renderConfigJsonSchema } from './generate-schema.ts';

export const REFERENCE_FILE = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

/** Meanings for keys whose schema carries no description. `*` stands for any map key, `[]` for list items. */
const MEANINGS: Record<string, string> = {
  version: 'Config format version. Only 1 exists.',
  listen: 'Proxy listener, host:port. Use 0.0.0.0:PORT to accept traffic from other machines.',
  admin: 'The admin API (CLI, dashboard, automation).',
  'admin.listen': 'Admin API listener. A non-loopback address is refused unless a token is set.',
  'admin.token': 'Bearer token required on every admin request except /healthz. Also read from env CUTOVER_TOKEN. Put it in the environment: `token: ${CUTOVER_ADMIN_TOKEN}`.',
  dataDir: 'State directory: the SQLite store, recorded comparisons, routing overrides.',
  store: 'Where state, telemetry and comparison results are kept.',
  'store.kind': '`sqlite` (a file in dataDir, WAL mode) or `postgres` (for several cutover instances).',
  workers: 'Data-plane processes. 1 serves in the main process; more (or `auto`, one per CPU) run a cluster whose primary runs the control plane.',
  shutdownTimeout: 'On SIGTERM/SIGINT, how long in-flight requests may take to finish before connections are closed.',
  backends: 'The two implementations, and optionally a second legacy instance.',
  'backends.legacy': 'The implementation traffic is moving away from.',
  'backends.candidate': 'The rewrite traffic is moving to.',
  'backends.replica': 'A second legacy instance. Mirrored requests also go to it, so differences between two runs of the same code are learned as noise.',
  'backends.*.health': 'Active health probe of this backend; the result shows in `cutover status`.',
  'backends.*.health.interval': 'Time between two probes.',
  'backends.*.health.timeout': 'A probe without an answer in this time counts as a failure.',
  'backends.*.rejectUnauthorized': 'Verify the backend’s TLS certificate. Turn off only for a test backend.',
  'backends.*.timeouts': 'Per-request limits towards this backend.',
  'backends.*.timeouts.connect': 'TCP (and TLS) connect timeout.',
  'backends.*.timeouts.headers': 'Time until the response headers arrive. The body may stream for longer.',
  'backends.*.timeouts.idle': 'How long an idle keep-alive connection is kept in the pool.',
  defaults: 'What a route leaves unset, and how the catch-all route `default` behaves.',
  'defaults.mode': 'Mode of the catch-all route and of routes without a mode: legacy, candidate, canary, shadow or live.',
  'defaults.percent': 'Canary percent of the catch-all route when defaults.mode is canary.',
  'defaults.stickiness': 'Canary stickiness for routes that do not set one.',
  'defaults.fallback': '`legacy`: when the candidate refuses the connection, a bodiless idempotent request is served by legacy instead. `none`: the client gets the 502.',
  'defaults.shadow': 'Mirroring settings for shadow and live routes (and canary with compare); a route can override any of them.',
  'defaults.shadow.timeout': 'How long a mirrored request may take; later answers are dropped and counted.',
  'defaults.shadow.maxConcurrency': 'Mirrored requests in flight at once. Mirroring never slows the served request down: beyond this they queue.',
  'defaults.shadow.maxQueue': 'Mirrored requests waiting for a slot. Beyond this they are dropped and counted.',
  override: 'Tester override header. Off unless set.',
  'override.header': 'Header name a tester sends.',
  'override.secret': 'Secret the header value must carry; compared in constant time.',
  routes: 'Routes, matched in order; the first match wins. Requests that match none use the catch-all route `default`.',
  'routes[].id': 'Route id, used by the CLI, the API, metrics and plans. `default` is reserved.',
  'routes[].match': 'Which requests the route takes. Every given condition must hold.',
  'routes[].match.methods': 'HTTP methods, upper case. Omitted: any method.',
  'routes[].mode': 'legacy, candidate, canary (needs percent), shadow (legacy serves, candidate is mirrored and compared) or live (candidate serves, legacy is mirrored). Omitted: defaults.mode.',
  'routes[].percent': 'Canary only: share of keys sent to the candidate, 0-100 in 0.01 steps.',
  'routes[].stickiness': 'Canary only. Omitted: defaults.stickiness. A request without the key is placed by client IP.',
  'routes[].fallback': 'Overrides defaults.fallback for this route.',
  'routes[].shadow': 'Overrides of defaults.shadow for this route.',
  'routes[]': 'One route.',
  'routes[].rules': 'Comparison rules for this route, added to the global `compare:` rules (lists appended, scalars replaced).',
  compare: 'Comparison rules for every route.',
  'compare.headers': 'Which response headers are compared.',
  'compare.numbers': 'Numeric tolerances.',
  'compare.numbers.paths[]': 'A tolerance for the numbers at one path.',
  'compare.timestamps': 'Values compared as instants rather than as text.',
  'compare.timestamps.paths[]': 'A path (tolerance from compare.timestamps.tolerance), or `{ path, tolerance }`.',
  'compare.arrays': 'Arrays whose element order does not matter.',
  'compare.arrays.keyed[]': 'An array of objects matched element by element through a key member.',
  'compare.body': 'Limits of the body comparison.',
  'compare.noise': 'When a differing path is signal rather than noise; noise is learned from legacy-against-legacy samples (the replica, or legacy asked twice).',
  telemetry: 'Metrics and access log.',
  'telemetry.accessLog': '`off`, `sampled` (accessLogSample of requests) or `full`.',
  'telemetry.accessLogSample': 'Fraction of requests logged when accessLog is sampled.',
  'telemetry.enabled': 'Collect per-route, per-backend statistics (needed by gates, status and /metrics).',
  results: 'Stored comparison results.',
  'results.samplesPerGroup': 'Full request/response samples kept per group of identical differences.',
  'results.retention': 'How long comparison results are kept.',
  'results.maxRows': 'Upper bound on stored comparison rows; the oldest go first.',
  'results.redactHeaders': 'Header names whose values are replaced by a keyed hash before anything is stored.',
  'results.redactPaths': 'Body paths (as in compare rules) whose values are replaced by a keyed hash before anything is stored.',
  plans: 'Rollout plans keyed by route id or component name.',
  'plans.<name>': 'One plan; its name is a route id or a component name (see routes[].component). See docs/rollout.md.',
  'plans.<name>.steps[].minSamples.legacy': 'Legacy requests needed in the evaluation window.',
  'plans.<name>.steps[].minSamples.candidate': 'Candidate requests needed in the evaluation window.',
  'plans.<name>.steps[].minSamples.compared': 'Compared request pairs needed in the evaluation window.',
  killSwitch: 'Global switch to legacy from outside the admin API.',
  'killSwitch.env': 'Environment variable that turns the kill switch on when set to 1, true, on or yes (read at start and on SIGHUP or reload).',
  notifications: 'Where rollout events (step changes, rollbacks, pauses) are sent.',
  'notifications.webhooks': 'Webhooks called on each rollout event.',
  'notifications.webhooks[]': 'One webhook.',
  'notifications.webhooks[].url': 'Webhook URL.',
  'notifications.webhooks[].format': '`json` (the event) or `slack` (a text message for a Slack incoming webhook).',
  'notifications.webhooks[].headers': 'Extra request headers, e.g. an authorization header.',
};

type Schema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
};

interface Row {
  key: string;
  type: string;
  def: string;
  meaning: string;
}

const DURATION_TEXT = /^Milliseconds as a number/;

function isDuration(s: Schema): boolean {
  const alts = s.anyOf ?? [];
  return alts.length === 2 && alts.some((a) => a.type === 'number') && alts.some((a) => a.type === 'string' && a.pattern === undefined);
}

function numberType(t: 'integer' | 'number', s: Schema): string {
  const exclusive = s.exclusiveMinimum;
  const lo = s.minimum ?? (exclusive !== undefined && t === 'integer' ? exclusive + 1 : undefined);
  const hi = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  if (s.exclusiveMaximum !== undefined) {
    const from = lo !== undefined ? `≥ ${lo}` : exclusive !== undefined ? `> ${exclusive}` : undefined;
    return from === undefined ? `${t} < ${s.exclusiveMaximum}` : `${t} ${from}, < ${s.exclusiveMaximum}`;
  }
  if (lo !== undefined && hi !== undefined) return `${t} ${lo}–${hi}`;
  if (lo !== undefined) return `${t} ≥ ${lo}`;
  if (exclusive !== undefined) return hi !== undefined ? `${t} > ${exclusive}, ≤ ${hi}` : `${t} > ${exclusive}`;
  return hi !== undefined ? `${t} ≤ ${hi}` : t;
}

function typeOf(s: Schema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (isDuration(s)) return 'duration';
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(' \\| ');
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : s.type;
  if (t === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (t === 'object') {
    if (s.properties) return 'object';
    if (s.additionalProperties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
    return 'object';
  }
  if (t === 'integer' || t === 'number') return numberType(t, s);
  if (t === 'string' && s.format === 'uri') return 'URL';
  return t ?? 'any';
}

function defaultOf(s: Schema, required: boolean): string {
  if (s.default === undefined) return required ? '**required**' : '—';
  const d = s.default;
  if (isDuration(s) && typeof d === 'number' && d > 0) return `\`${d}\` (${formatDuration(d)})`;
  if (d !== null && typeof d === 'object' && !Array.isArray(d) && Object.keys(d).length === 0) return '';
  return `\`${JSON.stringify(d)}\``;
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
}

/** Keys that repeat a section elsewhere share its meaning: route shadow and rules settings, the three backends. */
function meaningOf(path: string, s: Schema): string {
  const candidates = [
    path,
    path.replace(/^backends\.<side>\./, 'backends.*.'),
    path.replace(/^routes\[\]\.shadow\./, 'defaults.shadow.'),
    path.replace(/^routes\[\]\.rules\./, 'compare.'),
  ];
  const own = s.description !== undefined && !DURATION_TEXT.test(s.description) ? s.description : undefined;
  return own ?? candidates.map((c) => MEANINGS[c]).find((m) => m !== undefined) ?? s.description ?? '';
}

/** The object schema inside a schema, if any: plain object, or an object branch of anyOf (nullable objects). */
function objectOf(s: Schema): Schema | undefined {
  if (s.properties) return s;
  for (const alt of s.anyOf ?? []) if (alt.properties) return alt;
  return undefined;
}

function walk(s: Schema, rawPath: string, required: boolean, rows: Row[], seen: Set<string>): void {
  // The three backends share one shape: list its keys once.
  const path = rawPath.replace(/^backends\.(legacy|candidate|replica)\./, 'backends.<side>.');
  if (path !== '' && !seen.has(path)) {
    seen.add(path);
    rows.push({ key: path, type: typeOf(s), def: defaultOf(s, required), meaning: meaningOf(path, s) });
  }
  const obj = objectOf(s);
  if (obj?.properties) {
    const req = new Set(obj.required ?? []);
    for (const [key, child] of Object.entries(obj.properties)) walk(child, path === '' ? key : `${path}.${key}`, req.has(key), rows, seen);
    return;
  }
  if (s.items) {
    if (objectOf(s.items)) walk(s.items, `${path}[]`, false, rows, seen);
    else for (const alt of s.items.anyOf ?? []) if (objectOf(alt)) walk(alt, `${path}[]`, false, rows, seen);
    return;
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object' && objectOf(s.additionalProperties)) {
    walk(s.additionalProperties, `${path}.<name>`, false, rows, seen);
  }
}

const SECTIONS: Array<[string, string]> = [
  ['version', 'Top level'],
  ['listen', 'Top level'],
  ['admin', 'Admin API'],
  ['dataDir', 'Top level'],
  ['store', 'Store'],
  ['workers', 'Top level'],
  ['shutdownTimeout', 'Top level'],
  ['backends', 'Backends'],
  ['defaults', 'Defaults'],
  ['override', 'Tester override'],
  ['routes', 'Routes'],
  ['compare', 'Comparison rules'],
  ['telemetry', 'Telemetry'],
  ['results', 'Comparison results'],
  ['gates', 'Gates'],
  ['plans', 'Rollout plans'],
  ['killSwitch', 'Kill switch'],
  ['notifications', 'Notifications'],
  ['report', 'Go/No-Go report'],
];

export function renderConfigReference(): string {
  const schema = JSON.parse(renderConfigJsonSchema()) as Schema;
  const rows: Row[] = [];
  walk(schema, '', true, rows, new Set());
  const sectionOf = (key: string) => {
    const top = key.split(/[.[]/)[0]!;
    return SECTIONS.find(([k]) => k === top)?.[1] ?? 'Other';
  };
  const order = [...new Set([...SECTIONS.map(([, title]) => title), 'Other'])];
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run schema` (scripts/generate-config-reference.ts). Do not edit by hand. -->',
    '',
    'Every key of `cutover.yaml`, with its type, default and meaning. Only `backends.legacy.url` and',
    '`backends.candidate.url` are required; everything else has a default or is optional.',
    '',
    '- **duration**: milliseconds as a number, or a string with a unit: `250ms`, `30s`, `10m`, `1h`, `7d`.',
    '- `${NAME}` and `${NAME:-default}` in any value are replaced from the environment when the file is loaded',
    '  (an unquoted value is then read as YAML, so `percent: ${PCT}` is a number; a quoted one stays a string).',
    '- YAML anchors and merge keys work: `<<: *canary` copies the keys of the `&canary` mapping.',
    '- Unknown keys are errors. `cutover validate -c FILE` prints every problem with file:line:column and key path.',
    '- `[]` marks the items of a list, `<name>` the entries of a map, `<side>` each of legacy, candidate and replica.',
    '- Editors can validate and complete the file with the JSON Schema in [cutover.schema.json](cutover.schema.json):',
    '  put `# yaml-language-server: $schema=./docs/cutover.schema.json` at the top of cutover.yaml.',
    '',
  ];
  for (const title of order) {
    const section = rows.filter((r) => sectionOf(r.key) === title);
    // The three backends first, then the keys they share.
    section.sort((a, b) => Number(a.key.startsWith('backends.<side>')) - Number(b.key.startsWith('backends.<side>')));
    if (section.length === 0) continue;
    out.push(`## ${title}`, '', '| Key | Type | Default | Meaning |', '| --- | --- | --- | --- |');
    for (const r of section) out.push(`| \`${r.key}\` | ${r.type} | ${r.def} | ${escape(r.meaning)} |`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

if (import.meta.main) {
  writeFileSync(REFERENCE_FILE, renderConfigReference());
  process.stdout.write(`wrote ${REFERENCE_FILE}\n`);
}
