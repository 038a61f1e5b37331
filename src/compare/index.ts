/**
 * The comparison engine: pure functions (no I/O, no timers, no shared
 * state) used by the live shadow comparer and by offline replay.
 *
 * @example
 * import { compileRules, compareResponses } from '../compare/index.ts';
 * const rules = compileRules(config.compare, route.rules); // once, at config load
 * const { verdict, differences } = compareResponses(pair.served, pair.mirrored, rules);
 */
export type { HttpMessage, Difference, DifferenceKind, CompareResult } from './difference.ts';
export { DifferenceSink, previewValue } from './difference.ts';

export { compileRules, mergeRules, ENGINE_DEFAULTS } from './rules.ts';
export type { CompiledRules, NodeRules, NumericTolerance, NoiseThresholds } from './rules.ts';

export { compareResponses, compareLifted } from './verdict.ts';
export { liftResponse, decodeContent, bodyKindOf, LiftedResponse } from './normalise.ts';
export type { BodyKind, DecodeResult } from './normalise.ts';

export { diffJson, jsonEqual } from './json-diff.ts';
export { diffTextLines } from './text-diff.ts';
export { parseFormFields } from './form-diff.ts';
export { diffBinary, sha256 } from './binary-diff.ts';
export { parseJsonLossless } from './json-parse.ts';

export { DEFAULT_IGNORED_HEADERS, FRAMING_HEADERS, normaliseHeaders, isHeaderCompared, parseMediaType } from './headers.ts';
export type { NormalisedHeaders, HeaderRules, MediaType } from './headers.ts';

export { parseJsonPath, tryParseJsonPath, formatJsonPath, generaliseJsonPath } from './json-path.ts';
export type { PathSegment, PathStep, PathParseResult } from './json-path.ts';

export { parseTimestamp, parseIso8601, parseAutoTimestampPair } from './timestamps.ts';

export { createNoiseModel, NoiseModel, filterNoise, isSignal } from './noise.ts';
export type { NoiseClass, NoiseModelOptions, NoiseObservation, LearnedNoise, NoiseModelSnapshot, FilteredResult } from './noise.ts';

export { createEndpointTemplater, OVERFLOW_TEMPLATE } from './endpoint-templates.ts';
export type { EndpointTemplater, EndpointTemplaterOptions } from './endpoint-templates.ts';
export { classifyIdentifier } from './identifier-shapes.ts';
export type { IdentifierShape } from './identifier-shapes.ts';

export { redact, keyedHash, ALWAYS_REDACTED_HEADERS, REDACTED_PREFIX } from './redact.ts';
export type { RedactOptions } from './redact.ts';
