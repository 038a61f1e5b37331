/**
 * parse -> validate -> freeze. Every problem is reported with the file, line,
 * column and key path, all at once, so a user fixes a config in one pass.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
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
  return `${p.file}:${p.line}:${p.column} ${p.path || '(root)'}: ${p.message}`;
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
  const problems = result.error.issues.map((issue) => ({
    file: source,
    line: 0,
    column: 0,
    path: formatKeyPath(issue.path),
    message: describeIssue(issue),
  }));
  throw invalid(source, problems);
}

/** Parses YAML text; `file` is used in messages only. */
export function parseConfigText(text: string, file: string): CutoverConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err) => {
      const pos = err.linePos?.[0] ?? { line: 0, col: 0 };
      return { file, line: pos.line, column: pos.col, path: '', message: err.message.split('\n')[0] ?? err.message };
    });
    throw new CutoverError(ErrorCodes.CONFIG_PARSE, `${file} is not valid YAML:\n${problems.map(formatProblem).join('\n')}`, {
      hint: 'fix the YAML syntax at the positions shown',
      details: problems,
    });
  }
  const raw = substituteEnv(doc.toJS() ?? {}, file);
  const result = configSchema.safeParse(raw);
  if (result.success) return deepFreeze(result.data);
  const problems = result.error.issues.map((issue) => locate(doc, lineCounter, file, issue));
  throw invalid(file, problems);
}

export function loadConfigFile(file: string): CutoverConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CutoverError(ErrorCodes.CONFIG_NOT_FOUND, `cannot read config file ${file}: ${(err as Error).message}`, {
      hint: 'pass an existing file with -c, or run without -c and use --legacy/--candidate',
      cause: err,
    });
  }
  return parseConfigText(text, file);
}

function invalid(file: string, problems: ConfigProblem[]): CutoverError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new CutoverError(ErrorCodes.CONFIG_INVALID, `${file} has ${count}:\n${problems.map(formatProblem).join('\n')}`, {
    hint: 'fix each key shown; `cutover validate -c FILE` checks a file without starting anything',
    details: problems,
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `missing required key (expected ${issue.expected})`;
  return issue.message;
}

/** Finds the YAML node an issue points at, walking up to the nearest existing ancestor. */
function locate(doc: Document, lineCounter: LineCounter, file: string, issue: z.core.$ZodIssue): ConfigProblem {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  let keyPath = [...path];
  // For unknown keys, point at the offending key itself.
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) keyPath = [...path, issue.keys[0]!];
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

/**
 * `${NAME}` and `${NAME:-default}` in string values are replaced from the
 * environment, so secrets (admin token, backend auth headers) stay out of the file.
 */
function substituteEnv(value: unknown, file: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => {
      const env = process.env[name];
      if (env !== undefined && env !== '') return env;
      if (fallback !== undefined) return fallback;
      throw new CutoverError(ErrorCodes.CONFIG_INVALID, `${file}: environment variable ${name} is not set`, {
        hint: `export ${name}=…, or write \${${name}:-default} to give a default`,
      });
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteEnv(v, file));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, file);
    return out;
  }
  return value;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
