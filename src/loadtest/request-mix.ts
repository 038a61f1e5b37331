/**
 * The requests `cutover bench` sends: one fixed request, or the mix in a
 * traffic file (NDJSON, one request per line:
 * `{ "method": "GET", "url": "/products?page=2", "headers": {…}, "body": "…", "bodyEncoding": "utf8" | "base64" }`).
 *
 * Record/replay (src/replay/) reads the same format; its reader was not in
 * the tree when this was written, so this is a small parser of its own,
 * to be replaced by that one once it lands. Only the method, path, query,
 * headers and body matter here: the same mix is sent to both backends, so a
 * `url` with a host keeps its path and query and drops the origin.
 */
import { readFileSync } from 'node:fs';
import { CutoverError, ErrorCodes } from '../core/errors.ts';

export interface MixRequest {
  method: string;
  /** Path and query, starting with `/`. */
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** Connection-level headers are the load generator's business (keep-alive pools), not the recording's. */
const DROPPED_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'te', 'trailer']);

function invalid(where: string, message: string): CutoverError {
  return new CutoverError(ErrorCodes.INPUT_INVALID, `${where}: ${message}`, {
    hint: 'each line is a JSON object like {"method":"GET","url":"/products?page=2","headers":{"accept":"application/json"}}',
  });
}

/**
 * Parses one line of a traffic file.
 * @throws CutoverError (INPUT_INVALID) naming `where` (file:line).
 */
export function parseMixLine(text: string, where: string): MixRequest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw invalid(where, `not JSON (${(err as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(where, 'not a JSON object');
  const o = v as Record<string, unknown>;
  const method = o.method ?? 'GET';
  if (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method)) throw invalid(where, `method ${JSON.stringify(method)} is not an HTTP method`);
  if (typeof o.url !== 'string' || o.url === '') throw invalid(where, 'url is missing');
  let path: string;
  if (o.url.startsWith('/')) path = o.url;
  else {
    try {
      const u = new URL(o.url);
      path = `${u.pathname}${u.search}`;
    } catch {
      throw invalid(where, `url ${JSON.stringify(o.url)} is neither a path nor an absolute URL`);
    }
  }
  const headers: Record<string, string> = {};
  if (o.headers !== undefined) {
    if (o.headers === null || typeof o.headers !== 'object' || Array.isArray(o.headers)) throw invalid(where, 'headers must be an object');
    for (const [k, val] of Object.entries(o.headers as Record<string, unknown>)) {
      const name = k.toLowerCase();
      if (DROPPED_HEADERS.has(name)) continue;
      if (typeof val === 'string') headers[name] = val;
      else if (Array.isArray(val) && val.every((x) => typeof x === 'string')) headers[name] = val.join(', ');
      else throw invalid(where, `header ${k} must be a string or a list of strings`);
    }
  }
  let body: Buffer | undefined;
  if (o.body !== undefined && o.body !== null) {
    if (typeof o.body !== 'string') throw invalid(where, 'body must be a string (use bodyEncoding "base64" for bytes)');
    const enc = o.bodyEncoding ?? 'utf8';
    if (enc !== 'utf8' && enc !== 'base64') throw invalid(where, `bodyEncoding ${JSON.stringify(enc)} is not utf8 or base64`);
    body = Buffer.from(o.body, enc);
  }
  return { method: method.toUpperCase(), path, headers, body };
}

/**
 * Reads a whole traffic file: a benchmark replays the mix round after round,
 * so it is held in memory. Any bad line stops the read (a silently thinner
 * mix would measure something else).
 *
 * @example
 * const mix = readRequestMix('traffic.ndjson'); // [{ method: 'GET', path: '/products?page=2', headers: {}, body: undefined }, …]
 */
export function readRequestMix(file: string): MixRequest[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'pass an NDJSON traffic file with --from, or a single request with --path',
    });
  }
  const out: MixRequest[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '') out.push(parseMixLine(line, `${file}:${i + 1}`));
  });
  if (out.length === 0) throw new CutoverError(ErrorCodes.INPUT_INVALID, `${file} has no requests`, { hint: 'one JSON request per line' });
  return out;
}

/** The one-request mix of `--path /x --method GET`. */
export function singleRequestMix(path: string, method = 'GET'): MixRequest[] {
  if (!path.startsWith('/')) throw new CutoverError(ErrorCodes.INPUT_INVALID, `--path "${path}" must start with /`, { hint: 'e.g. --path /products?page=1' });
  return [{ method: method.toUpperCase(), path, headers: {}, body: undefined }];
}
