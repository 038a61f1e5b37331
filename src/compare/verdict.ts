/**
 * The comparison of two whole answers: status, then headers, then body read
 * by media type. Identical raw bodies skip all body work, but status and
 * headers are still compared.
 */
import { diffBinary } from './binary-diff.ts';
import { DifferenceSink, type CompareResult, type HttpMessage } from './difference.ts';
import { parseFormFields } from './form-diff.ts';
import { diffHeaders } from './headers.ts';
import { diffJson } from './json-diff.ts';
import { liftResponse, type BodyKind, type LiftedResponse } from './normalise.ts';
import type { CompiledRules } from './rules.ts';
import { diffTextLines } from './text-diff.ts';

/**
 * @example
 * const rules = compileRules(config.compare, route.rules);
 * const { verdict, differences } = compareResponses(pair.served, pair.mirrored, rules);
 */
export function compareResponses(legacy: HttpMessage, candidate: HttpMessage, rules: CompiledRules): CompareResult {
  return compareLifted(liftResponse(legacy, rules), liftResponse(candidate, rules), rules);
}

/**
 * Same as compareResponses for already lifted answers, so one legacy answer
 * can be compared with the candidate and with a noise sample for one decode.
 * @example
 * const legacy = liftResponse(pair.served, rules);
 * const raw = compareLifted(legacy, liftResponse(pair.mirrored, rules), rules);
 * const noise = pair.noise && compareLifted(legacy, liftResponse(pair.noise, rules), rules);
 */
export function compareLifted(legacy: LiftedResponse, candidate: LiftedResponse, rules: CompiledRules): CompareResult {
  const sink = new DifferenceSink(rules.maxDifferences);
  if (legacy.status !== candidate.status) {
    sink.add({ kind: 'status', path: 'status', generalPath: 'status', legacy: legacy.status, candidate: candidate.status });
  }
  diffHeaders(legacy.headers, candidate.headers, rules.headers, sink);
  diffBodies(legacy, candidate, rules, sink);
  return {
    verdict: sink.items.length > 0 || sink.truncated ? 'mismatch' : 'match',
    differences: sink.items,
    truncated: sink.truncated,
  };
}

function diffBodies(a: LiftedResponse, b: LiftedResponse, rules: CompiledRules, sink: DifferenceSink): void {
  if (a.rawBody.byteLength === 0 && b.rawBody.byteLength === 0) return;
  if (a.contentEncoding === b.contentEncoding && bytesEqual(a.rawBody, b.rawBody)) return;
  const da = a.decoded();
  const db = b.decoded();
  if (!da.ok || !db.ok) {
    if (!da.ok && !db.ok) {
      if (!bytesEqual(a.rawBody, b.rawBody)) sink.add({ kind: 'value', path: 'body', generalPath: 'body', detail: `neither body could be decoded (legacy: ${da.reason}; candidate: ${db.reason}) and the raw bytes differ` });
    } else {
      sink.add({ kind: 'type', path: 'body', generalPath: 'body', detail: da.ok ? `candidate: ${(db as { reason: string }).reason}` : `legacy: ${da.reason}` });
    }
    return;
  }
  const bytesA = da.bytes;
  const bytesB = db.bytes;
  if (bytesA.byteLength === 0) {
    sink.add({ kind: 'extra', path: 'body', generalPath: 'body', candidate: `${bytesB.byteLength} bytes`, detail: 'legacy body is empty' });
    return;
  }
  if (bytesB.byteLength === 0) {
    sink.add({ kind: 'missing', path: 'body', generalPath: 'body', legacy: `${bytesA.byteLength} bytes`, detail: 'candidate body is empty' });
    return;
  }
  // Rules only ever relax equality, so equal decoded bytes are equal under any rule.
  if (bytesA.equals(bytesB)) return;
  switch (comparisonKind(a, b)) {
    case 'json': {
      const ja = a.json();
      const jb = b.json();
      if (ja.ok && jb.ok) diffJson(ja.value, jb.value, rules, sink);
      else if (!ja.ok && !jb.ok) diffTextLines(a.text(), b.text(), sink);
      else sink.add({ kind: 'type', path: '$', generalPath: '$', legacy: ja.ok ? 'json' : 'text', candidate: jb.ok ? 'json' : 'text', detail: ja.ok ? `candidate body is not JSON: ${(jb as { error: string }).error}` : `legacy body is not JSON: ${(ja as { error: string }).error}` });
      return;
    }
    case 'form':
      diffJson(parseFormFields(a.text()), parseFormFields(b.text()), rules, sink);
      return;
    case 'text':
      diffTextLines(a.text(), b.text(), sink);
      return;
    case 'binary':
      diffBinary(bytesA, bytesB, sink);
      return;
  }
}

// Both sides usually declare the same kind. When they do not (the header
// difference reports that), the body is still compared as closely as both
// allow: as JSON if both parse, as text if both are text, else by digest.
function comparisonKind(a: LiftedResponse, b: LiftedResponse): BodyKind {
  const ka = a.kind();
  const kb = b.kind();
  if (ka === kb) return ka;
  if ((ka === 'json' || kb === 'json') && a.json().ok && b.json().ok) return 'json';
  if (ka !== 'binary' && kb !== 'binary') return 'text';
  return 'binary';
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
