/**
 * Lifts a raw HTTP answer into what is compared: status, case-insensitive
 * headers and a body read according to its media type after Content-Encoding
 * is removed. Body work is lazy and remembered, so identical bodies cost one
 * byte comparison and a legacy answer compared twice (candidate and noise
 * sample) is decoded and parsed once.
 */
import { isUtf8 } from 'node:buffer';
import zlib from 'node:zlib';
import type { HttpMessage } from './difference.ts';
import { isJsonMediaType, normaliseHeaders, parseMediaType, type MediaType, type NormalisedHeaders } from './headers.ts';
import { parseJsonLossless, type JsonParseResult } from './json-parse.ts';

/** How a body is compared: structurally, as form fields, line by line, or by digest. */
export type BodyKind = 'json' | 'form' | 'text' | 'binary';

export type DecodeResult = { ok: true; bytes: Buffer } | { ok: false; reason: string };

const TEXT_ESSENCES = new Set([
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-ndjson',
  'application/yaml',
  'application/x-yaml',
  'application/graphql',
  'application/sql',
  'application/csv',
]);

/**
 * Removes every Content-Encoding layer (gzip, x-gzip, deflate, br, zstd) in
 * reverse order. `maxBytes` bounds each layer's output, so a small
 * compressed bomb fails fast instead of exhausting memory.
 * @example decodeContent(zlib.gzipSync('{}'), 'gzip', 1 << 20) // { ok: true, bytes: <Buffer 7b 7d> }
 */
export function decodeContent(body: Uint8Array, contentEncoding: string, maxBytes: number): DecodeResult {
  let bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (contentEncoding === '') return { ok: true, bytes };
  const layers = contentEncoding.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'identity');
  const options = { maxOutputLength: maxBytes };
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    try {
      switch (layer) {
        case 'gzip':
        case 'x-gzip':
          bytes = zlib.gunzipSync(bytes, options);
          break;
        case 'br':
          bytes = zlib.brotliDecompressSync(bytes, options);
          break;
        case 'deflate':
          bytes = inflateEither(bytes, options);
          break;
        case 'zstd':
          bytes = zlib.zstdDecompressSync(bytes, options);
          break;
        default:
          return { ok: false, reason: `unsupported content-encoding "${layer}"` };
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') return { ok: false, reason: `${layer} body decodes to more than ${maxBytes} bytes (body.maxDecodedBytes)` };
      return { ok: false, reason: `${layer} body could not be decoded: ${(err as Error).message}` };
    }
  }
  return { ok: true, bytes };
}

// "deflate" means zlib-wrapped data (RFC 9110), but some servers send raw
// deflate; accept both as browsers do.
function inflateEither(bytes: Buffer, options: zlib.ZlibOptions): Buffer {
  try {
    return zlib.inflateSync(bytes, options);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw err;
    return zlib.inflateRawSync(bytes, options);
  }
}

/**
 * @example bodyKindOf(parseMediaType('application/problem+json'), body) // 'json'
 */
export function bodyKindOf(media: MediaType | undefined, decoded: Uint8Array | undefined): BodyKind {
  if (media === undefined) return sniffKind(decoded);
  const essence = media.essence;
  if (isJsonMediaType(essence)) return 'json';
  if (essence === 'application/x-www-form-urlencoded') return 'form';
  if (essence.startsWith('text/') || essence.endsWith('+xml') || TEXT_ESSENCES.has(essence)) return 'text';
  return 'binary';
}

// Without a Content-Type, a body that starts like JSON is read as JSON and
// valid UTF-8 as text: that is what such backends send in practice.
function sniffKind(bytes: Uint8Array | undefined): BodyKind {
  if (bytes === undefined || bytes.length === 0) return 'binary';
  for (let i = 0; i < bytes.length && i < 64; i++) {
    const c = bytes[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (c === 0x7b || c === 0x5b) return 'json';
    break;
  }
  return isUtf8(bytes) ? 'text' : 'binary';
}

/**
 * One side of a comparison, lifted once and reusable for several comparisons.
 * @example
 * const legacy = liftResponse(pair.served, rules);
 * compareLifted(legacy, liftResponse(pair.mirrored, rules), rules);
 * compareLifted(legacy, liftResponse(pair.noise, rules), rules);
 */
export class LiftedResponse {
  readonly status: number;
  readonly headers: NormalisedHeaders;
  readonly rawBody: Uint8Array;
  /** Lower-case Content-Encoding, '' for identity. */
  readonly contentEncoding: string;
  readonly media: MediaType | undefined;
  readonly maxDecodedBytes: number;
  #decoded: DecodeResult | undefined;
  #json: JsonParseResult | undefined;
  #text: string | undefined;

  constructor(message: HttpMessage, maxDecodedBytes: number) {
    this.status = message.status;
    this.headers = normaliseHeaders(message.headers);
    this.rawBody = message.body;
    const encoding = (this.headers.values.get('content-encoding') ?? '').trim().toLowerCase();
    this.contentEncoding = encoding === 'identity' ? '' : encoding;
    this.media = parseMediaType(this.headers.values.get('content-type'));
    this.maxDecodedBytes = maxDecodedBytes;
  }

  decoded(): DecodeResult {
    this.#decoded ??= decodeContent(this.rawBody, this.contentEncoding, this.maxDecodedBytes);
    return this.#decoded;
  }

  /** The comparison kind this side declares (or, without Content-Type, looks like). */
  kind(): BodyKind {
    const d = this.decoded();
    return bodyKindOf(this.media, d.ok ? d.bytes : undefined);
  }

  text(): string {
    if (this.#text === undefined) {
      const d = this.decoded();
      this.#text = d.ok ? decodeText(d.bytes, this.media?.charset) : '';
    }
    return this.#text;
  }

  json(): JsonParseResult {
    this.#json ??= parseJsonLossless(stripBom(this.text()));
    return this.#json;
  }
}

/**
 * @example liftResponse({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') }, rules)
 */
export function liftResponse(message: HttpMessage, rules: { maxDecodedBytes: number }): LiftedResponse {
  return new LiftedResponse(message, rules.maxDecodedBytes);
}

function decodeText(bytes: Buffer, charset: string | undefined): string {
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8' || charset === 'us-ascii') return bytes.toString('utf8');
  if (charset === 'iso-8859-1' || charset === 'latin1') return bytes.toString('latin1');
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
