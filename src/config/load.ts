/**
 * parse -> validate -> freeze. Every problem is reported with the file, line,
 * column and key path, all at once, so a user fixes a config in one pass.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parse as parseYaml, parseDocument, isMap, isNode, isPair, isScalar, isSeq, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import { configSchema, type CutoverConfig, type CutoverConfigInput } from './schema.ts';

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  /** Key path such as `routes[2].percent`. */
  path: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where} ${p.path || '(root)'}: ${p.message}`;
}

export function formatKeyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/**
 * Validates an already-parsed object (flags, API bodies, tests).
 * @example
 * const cfg = validateConfig({ backends: { legacy: { url: 'http://127.0.0.1:8001' }, candidate: { url: 'http://127.0.0.1:8002' } } });
 */
export function validateConfig(input: CutoverConfigInput | unknown, source = '<inline>'): CutoverConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return deepFreeze(result.data);
  const problems = result.error.issues.flatMap(splitIssue).map((issue) => ({
    file: source,
    line: 0,
    column: 0,
    path: formatKeyPath(issueKeyPath(issue)),
    message: describeIssue(issue),
  }));
  throw invalid(source, problems);
}

/** Changes the parsed file before validation (command-line flags that win over the file). */
export type RawConfigPatch = (raw: Record<string, unknown>) => void;

/** Parses YAML text; `file` is used in messages only. */
export function parseConfigText(text: string, file: string, patch?: RawConfigPatch): CutoverConfig {
  const lineCounter = new LineCounter();
  // `merge` allows YAML merge keys (`<<: *defaults`), so routes can share settings through an anchor.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err): ConfigProblem => {
      const pos = lineCounter.linePos(err.pos[0]);
      return { file, line: pos.line, column: pos.col, path: formatKeyPath(pathAtOffset(doc, err.pos[0])), message: err.message.split('\n')[0] ?? err.message };
    });
    throw new CutoverError(ErrorCodes.CONFIG_PARSE, `${file} is not valid YAML:\n${sortProblems(problems).map(formatProblem).join('\n')}`, {
      hint: 'fix the YAML syntax at the positions shown',
      details: sortProblems(problems),
    });
  }
  const envProblems = substituteEnv(doc, lineCounter, file);
  const raw = doc.toJS() ?? {};
  if (patch !== undefined && raw !== null && typeof raw === 'object') patch(raw as Record<string, unknown>);
  const result = configSchema.safeParse(raw);
  if (result.success && envProblems.length === 0) return deepFreeze(result.data);
  // A value whose variable is unset is reported once, as that, not again as an invalid value.
  const unset = new Set(envProblems.map((p) => p.path));
  const schemaProblems = result.success ? [] : result.error.issues.flatMap((issue) => splitIssue(issue).map((one) => locate(doc, lineCounter, file, one)));
  const problems = [...envProblems, ...schemaProblems.filter((p) => !unset.has(p.path))];
  throw invalid(file, sortProblems(problems));
}

export function loadConfigFile(file: string, patch?: RawConfigPatch): CutoverConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CutoverError(ErrorCodes.CONFIG_NOT_FOUND, `cannot read config file ${file}: ${(err as Error).message}`, {
      hint: 'pass an existing file with -c, or run without -c and use --legacy/--candidate',
      cause: err,
    });
  }
  return parseConfigText(text, file, patch);
}

function invalid(file: string, problems: ConfigProblem[]): CutoverError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new CutoverError(ErrorCodes.CONFIG_INVALID, `${file} has ${count}:\n${problems.map(formatProblem).join('\n')}`, {
    hint: 'fix each key shown; `cutover validate -c FILE` checks a file without starting anything',
    details: problems,
  });
}

/** One problem per unknown key, so each is located at its own line. */
function splitIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'unrecognized_keys' || issue.keys.length <= 1) return [issue];
  return issue.keys.map((key) => ({ ...issue, keys: [key] }));
}

function issueKeyPath(issue: z.core.$ZodIssue): Array<string | number> {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) path.push(issue.keys[0]!);
  return path;
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.map((p, i) => ({ p, i })).sort((a, b) => a.p.line - b.p.line || a.p.column - b.p.column || a.i - b.i).map(({ p }) => p);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `missing required key (expected ${issue.expected})`;
  return issue.message;
}

/** Finds the YAML node an issue points at, walking up to the nearest existing ancestor. */
function locate(doc: Document, lineCounter: LineCounter, file: string, issue: z.core.$ZodIssue): ConfigProblem {
  // For unknown keys the path names the offending key itself, and so does the position.
  const path = issueKeyPath(issue);
  const keyPath = path;
  for (let depth = keyPath.length; depth >= 0; depth--) {
    const sub = keyPath.slice(0, depth);
    const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
    if (isNode(node) && node.range) {
      // Prefer the key's position for unknown keys (the value may be far away).
      const offset = findKeyOffset(doc, sub) ?? node.range[0];
      const pos = lineCounter.linePos(offset);
      return { file, line: pos.line, column: pos.col, path: formatKeyPath(path), message: describeIssue(issue) };
    }
  }
  return { file, line: 1, column: 1, path: formatKeyPath(path), message: describeIssue(issue) };
}

function findKeyOffset(doc: Document, path: Array<string | number>): number | undefined {
  if (path.length === 0) return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray((parent as { items: unknown[] }).items)) {
    for (const item of (parent as { items: unknown[] }).items) {
      if (item && typeof item === 'object' && 'key' in item) {
        const key = (item as { key: unknown }).key;
        if (isNode(key) && (key as unknown as { value: unknown }).value === last && key.range) return key.range[0];
      }
    }
  }
  return undefined;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * `${NAME}` and `${NAME:-default}` in values are replaced from the environment,
 * so secrets (admin token, backend auth headers) stay out of the file. As in a
 * shell, `:-` also applies when the variable is set but empty. An unquoted
 * value is read again as YAML after substitution (`percent: ${PCT}` gives a
 * number); a quoted one stays a string. Keys are never substituted. Each
 * unset variable is a problem located at its value; all are reported at once.
 */
function substituteEnv(doc: Document, lineCounter: LineCounter, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const missing: string[] = [];
      const replaced = node.value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
        const env = process.env[name];
        if (fallback !== undefined) return env === undefined || env === '' ? fallback : env;
        if (env === undefined) {
          missing.push(name);
          return '';
        }
        return env;
      });
      if (missing.length > 0) {
        const pos = lineCounter.linePos(node.range?.[0] ?? 0);
        for (const name of missing) {
          problems.push({
            file,
            line: pos.line,
            column: pos.col,
            path: formatKeyPath(keyPathOf(ancestors, node)),
            message: `environment variable ${name} is not set; export ${name}=…, or write \${${name}:-default} to give a default`,
          });
        }
        return;
      }
      node.value = node.type === 'PLAIN' ? plainScalar(replaced) : replaced;
    },
  });
  return problems;
}

/** A substituted unquoted value, typed as YAML would type it (number, boolean, null or string). */
function plainScalar(text: string): unknown {
  if (text.trim() === '') return text;
  try {
    const value: unknown = parseYaml(text);
    return value === null || typeof value === 'number' || typeof value === 'boolean' ? value : text;
  } catch {
    return text;
  }
}

/** The key path of a node from the ancestors `visit` hands over. */
function keyPathOf(ancestors: readonly unknown[], node: unknown): Array<string | number> {
  const chain = [...ancestors, node];
  const path: Array<string | number> = [];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
    else if (isPair(parent) && parent.value === child) path.push(scalarKey(parent.key));
  }
  return path;
}

function scalarKey(key: unknown): string | number {
  const v = isScalar(key) ? key.value : key;
  return typeof v === 'number' ? v : String(v);
}

/** Best-effort key path of the innermost node containing `offset`, for syntax errors. */
function pathAtOffset(doc: Document, offset: number): Array<string | number> {
  const path: Array<string | number> = [];
  let node: unknown = doc.contents;
  const within = (n: unknown): boolean => isNode(n) && n.range !== undefined && n.range !== null && offset >= n.range[0] && offset <= n.range[2];
  for (let depth = 0; depth < 64 && node; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => within(p.value) || within(p.key));
      if (!pair) break;
      path.push(scalarKey(pair.key));
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => within(item));
      if (index === -1) break;
      path.push(index);
      node = node.items[index];
    } else break;
  }
  return path;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
