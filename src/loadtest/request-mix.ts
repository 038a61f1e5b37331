/**
 * The requests `cutover bench` sends: one fixed request, or the mix in a
 * recorded-traffic file (NDJSON, one request per line, the format of
 * `cutover record` and `cutover replay`; src/replay/traffic-format.ts parses
 * and checks each line, so a file one accepts the other does too).
 * Only the method, path, query, headers and body matter here.
 */
import { readFileSync } from 'node:fs';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import { decodeBody, parseTrafficLine, UNRECORDED_HEADERS } from '../replay/traffic-format.ts';

export interface MixRequest {
  method: string;
  /** Path and query, starting with `/`. */
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer | undefined;
}

function invalid(where: string, message: string): CutoverError {
  return new CutoverError(ErrorCodes.INPUT_INVALID, `${where}: ${message}`, {
    hint: 'each line is a JSON object like {"method":"GET","url":"/products?page=2","headers":{"accept":"application/json"}} (see docs/replay.md)',
  });
}

/**
 * Parses one line of a traffic file; undefined for a request whose body was
 * too large to record (sending it without one would measure another request).
 * @throws CutoverError (INPUT_INVALID) naming `where` (file:line).
 */
export function parseMixLine(text: string, where: string): MixRequest | undefined {
  let record;
  try {
    record = parseTrafficLine(text);
  } catch (err) {
    throw invalid(where, (err as Error).message);
  }
  if (record.bodyTruncated === true) return undefined;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    const lower = name.toLowerCase();
    // The pools own the connection and address each backend themselves; a recorded Host named the public site.
    if (lower === 'host' || UNRECORDED_HEADERS.has(lower)) continue;
    headers[lower] = value;
  }
  const body = record.body === undefined ? undefined : decodeBody(record.body, record.bodyEncoding);
  return { method: record.method, path: record.url, headers, body };
}

/**
 * Reads a whole traffic file: a benchmark replays the mix round after round,
 * so it is held in memory. Any bad line stops the read (a silently thinner
 * mix would measure something else).
 *
 * @example
 * const { requests } = readRequestMix('traffic.ndjson'); // [{ method: 'GET', path: '/products?page=2', headers: {}, body: undefined }, …]
 */
export function readRequestMix(file: string): { requests: MixRequest[]; skipped: number } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'pass an NDJSON traffic file with --from, or a single request with --path',
    });
  }
  const requests: MixRequest[] = [];
  let skipped = 0;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const r = parseMixLine(line, `${file}:${i + 1}`);
    if (r === undefined) skipped++;
    else requests.push(r);
  });
  if (requests.length === 0) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `${file} has no requests that can be sent${skipped > 0 ? ` (${skipped} recorded without their body)` : ''}`, {
      hint: 'one JSON request per line; record with a larger capture limit to keep large bodies',
    });
  }
  return { requests, skipped };
}

/** The one-request mix of `--path /x --method GET`. */
export function singleRequestMix(path: string, method = 'GET'): MixRequest[] {
  if (!path.startsWith('/')) throw new CutoverError(ErrorCodes.INPUT_INVALID, `--path "${path}" must start with /`, { hint: 'e.g. --path /products?page=1' });
  return [{ method: method.toUpperCase(), path, headers: {}, body: undefined }];
}
