/**
 * Scenario files: a short YAML list of named requests with the answer each
 * must get (status, JSON values at paths, headers), checked against both
 * backends, and the two answers compared with each other under the same
 * rules as live traffic. The policy proxy's "hacker / admin / break-glass"
 * checks are the model: a handful of requests whose outcome matters more
 * than any statistic.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { compareResponses, compileRules, tryParseJsonPath } from '../compare/index.ts';
import type { CutoverConfig } from '../config/schema.ts';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import type { CapturedResponse } from '../dataplane/events.ts';
import { pathnameOf } from '../dataplane/request-context.ts';
import type { BackendClient } from './backend-client.ts';
import { createRouteResolver } from './route-resolver.ts';

const scenarioSchema = z
  .object({
    name: z.string().min(1),
    request: z
      .object({
        method: z.string().regex(/^[A-Za-z]+$/).default('GET'),
        path: z.string().startsWith('/'),
        headers: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
        json: z.unknown().optional(),
        body: z.string().optional(),
      })
      .strict()
      .refine((r) => r.json === undefined || r.body === undefined, 'give json or body, not both'),
    expect: z
      .object({
        status: z.number().int().min(100).max(599).optional(),
        json: z.record(z.string(), z.unknown()).optional().meta({ description: 'JSON path → expected value, e.g. $.decision: deny' }),
        headers: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

const fileSchema = z.union([z.array(scenarioSchema), z.object({ scenarios: z.array(scenarioSchema) }).strict()]);

export type Scenario = z.output<typeof scenarioSchema>;

export interface SideResult {
  status: number;
  ok: boolean;
  /** Failed expectations, in words. */
  failures: string[];
}

export interface ScenarioResult {
  name: string;
  legacy: SideResult;
  candidate: SideResult;
  /** The two answers are the same under the comparison rules. */
  parity: boolean;
  differences: string[];
}

/**
 * @example const scenarios = loadScenarios('scenarios.yaml');
 */
export function loadScenarios(file: string): Scenario[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `${file} is not YAML: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `${file} is not a scenario list: ${issues}`, {
      hint: '- name: hacker\n    request: { method: POST, path: /v1/decide, json: {…} }\n    expect: { status: 403, json: { $.decision: deny } }',
    });
  }
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.scenarios;
  for (const s of list) {
    for (const path of Object.keys(s.expect.json ?? {})) {
      const r = tryParseJsonPath(path);
      if (!r.ok || r.segments.some((x) => x.type === 'wildcard' || x.descendant)) {
        throw new CutoverError(ErrorCodes.INPUT_INVALID, `${file}: scenario "${s.name}": "${path}" is not a plain JSON path`, { hint: 'e.g. $.decision or $.items[0].id' });
      }
    }
  }
  return list;
}

function valueAt(doc: unknown, path: string): { found: boolean; value: unknown } {
  const r = tryParseJsonPath(path);
  if (!r.ok) return { found: false, value: undefined };
  let v: unknown = doc;
  for (const s of r.segments) {
    if (s.type === 'name' && v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, s.name)) v = (v as Record<string, unknown>)[s.name];
    else if (s.type === 'index' && Array.isArray(v) && s.index < v.length) v = v[s.index];
    else return { found: false, value: undefined };
  }
  return { found: true, value: v };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function headerOf(r: CapturedResponse, name: string): string | undefined {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function checkExpectations(s: Scenario, r: CapturedResponse): SideResult {
  const failures: string[] = [];
  if (r.failure !== undefined) return { status: 0, ok: false, failures: [`no answer (${r.failure})`] };
  if (s.expect.status !== undefined && r.status !== s.expect.status) failures.push(`status ${r.status}, expected ${s.expect.status}`);
  if (s.expect.json !== undefined) {
    let doc: unknown;
    let parsed = false;
    try {
      doc = JSON.parse(Buffer.from(r.body).toString('utf8'));
      parsed = true;
    } catch {
      failures.push('body is not JSON');
    }
    if (parsed) {
      for (const [path, want] of Object.entries(s.expect.json)) {
        const got = valueAt(doc, path);
        if (!got.found) failures.push(`${path} missing, expected ${JSON.stringify(want)}`);
        else if (!same(got.value, want)) failures.push(`${path} = ${JSON.stringify(got.value)}, expected ${JSON.stringify(want)}`);
      }
    }
  }
  for (const [name, want] of Object.entries(s.expect.headers ?? {})) {
    const got = headerOf(r, name);
    if (got !== want) failures.push(`header ${name.toLowerCase()} = ${got === undefined ? '(absent)' : JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
  return { status: r.status, ok: failures.length === 0, failures };
}

/**
 * @example
 * const results = await runScenarios(loadScenarios('scenarios.yaml'), { config, legacy, candidate });
 * process.exitCode = results.every((r) => r.legacy.ok && r.candidate.ok) ? 0 : 1;
 */
export async function runScenarios(scenarios: readonly Scenario[], deps: { config: CutoverConfig; legacy: BackendClient; candidate: BackendClient }): Promise<ScenarioResult[]> {
  const routes = createRouteResolver(deps.config);
  const rulesByRoute = new Map<string, ReturnType<typeof compileRules>>();
  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    const method = s.request.method.toUpperCase();
    const headers: string[] = [];
    let host: string | undefined;
    for (const [k, v] of Object.entries(s.request.headers)) {
      if (k.toLowerCase() === 'host') host = String(v);
      else headers.push(k, String(v));
    }
    let body: Buffer | null = null;
    if (s.request.json !== undefined) {
      body = Buffer.from(JSON.stringify(s.request.json));
      if (!Object.keys(s.request.headers).some((k) => k.toLowerCase() === 'content-type')) headers.push('content-type', 'application/json');
    } else if (s.request.body !== undefined) body = Buffer.from(s.request.body);
    const request = { method, url: s.request.path, headers, body, ...(host !== undefined ? { host } : {}) };
    const [l, c] = await Promise.all([deps.legacy.send(request), deps.candidate.send(request)]);
    const { route } = routes.resolve(method, pathnameOf(s.request.path), Object.fromEntries(Object.entries(s.request.headers).map(([k, v]) => [k.toLowerCase(), String(v)])));
    let rules = rulesByRoute.get(route);
    if (rules === undefined) {
      rules = compileRules(deps.config.compare, deps.config.routes.find((r) => r.id === route)?.rules);
      rulesByRoute.set(route, rules);
    }
    const differences: string[] = [];
    let parity = false;
    if (l.failure === undefined && c.failure === undefined) {
      const cmp = compareResponses(l, c, rules);
      parity = cmp.verdict === 'match';
      for (const d of cmp.differences) differences.push(`${d.path} (${d.kind}): ${JSON.stringify(d.legacy)} → ${JSON.stringify(d.candidate)}`);
    }
    results.push({ name: s.name, legacy: checkExpectations(s, l), candidate: checkExpectations(s, c), parity, differences });
  }
  return results;
}
