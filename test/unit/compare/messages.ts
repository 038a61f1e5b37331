/** Builders for HTTP messages used by the compare tests. */
import type { HttpMessage } from '../../../src/compare/index.ts';

export function jsonMessage(value: unknown, headers: Record<string, string | string[]> = {}, status = 200): HttpMessage {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) };
}

export function rawMessage(body: string | Uint8Array, headers: Record<string, string | string[]> = {}, status = 200): HttpMessage {
  return { status, headers, body: typeof body === 'string' ? Buffer.from(body) : body };
}
