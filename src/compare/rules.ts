/**
 * Turns the YAML rules (global `compare:` plus a route's `rules:`) into the
 * structures the diff walk reads: one path automaton for every body rule and
 * plain numbers for the rest. Compile once per route at config load; a
 * CompiledRules is immutable and shared by every comparison on that route.
 */
import { compareRulesSchema, type CompareRulesConfig, type CompareRulesInput } from '../config/compare-schema.ts';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import { compileHeaderRules, type HeaderRules } from './headers.ts';
import { parseJsonPath } from './json-path.ts';
import { compilePathAutomaton, type AutomatonState, type PathPattern } from './path-automaton.ts';

export interface NumericTolerance {
  readonly absolute: number;
  readonly relative: number;
}

/** What holds at one body node; the automaton precomputes one per state. */
export interface NodeRules {
  readonly ignore: boolean;
  readonly caseInsensitive: boolean;
  /** Undefined: the global number tolerance applies. */
  readonly tolerance: NumericTolerance | undefined;
  /** Defined at timestamp paths: the tolerance in milliseconds. */
  readonly timestampTolerance: number | undefined;
  readonly unordered: boolean;
  /** Defined when the array here is matched by this member. */
  readonly keyedBy: string | undefined;
}

export interface NoiseThresholds {
  readonly relativeThreshold: number;
  readonly absoluteThreshold: number;
  readonly minSamples: number;
}

export interface CompiledRules {
  readonly root: AutomatonState<NodeRules>;
  readonly headers: HeaderRules;
  readonly tolerance: NumericTolerance;
  readonly timestampAuto: boolean;
  readonly timestampTolerance: number;
  readonly maxDecodedBytes: number;
  readonly maxDifferences: number;
  readonly noise: NoiseThresholds;
  /** The merged rules, for display and for storing next to results. */
  readonly config: CompareRulesConfig;
}

export const ENGINE_DEFAULTS = {
  defaultIgnores: true,
  absolute: 0,
  relative: 0,
  timestampAuto: false,
  timestampTolerance: 0,
  maxDecodedBytes: 32 * 1024 * 1024,
  maxDifferences: 100,
  relativeThreshold: 0.2,
  absoluteThreshold: 0.0003,
  minSamples: 20,
} as const;

type RuleAction =
  | { kind: 'ignore' }
  | { kind: 'caseInsensitive' }
  | { kind: 'tolerance'; tolerance: NumericTolerance }
  | { kind: 'timestamp'; tolerance: number }
  | { kind: 'unordered' }
  | { kind: 'keyed'; key: string };

/**
 * Route rules extend global ones: lists append (route entries after global
 * ones, so they win where "last match wins"), set scalars replace.
 * @example mergeRules(globalRules, routeRules).ignore // [...global.ignore, ...route.ignore]
 */
export function mergeRules(global: CompareRulesConfig, route: CompareRulesConfig | undefined): CompareRulesConfig {
  if (route === undefined) return global;
  return {
    ignore: [...global.ignore, ...route.ignore],
    caseInsensitive: [...global.caseInsensitive, ...route.caseInsensitive],
    headers: {
      ignore: [...global.headers.ignore, ...route.headers.ignore],
      only: [...global.headers.only, ...route.headers.only],
      keep: [...global.headers.keep, ...route.headers.keep],
      defaultIgnores: route.headers.defaultIgnores ?? global.headers.defaultIgnores,
    },
    numbers: {
      absolute: route.numbers.absolute ?? global.numbers.absolute,
      relative: route.numbers.relative ?? global.numbers.relative,
      paths: [...global.numbers.paths, ...route.numbers.paths],
    },
    timestamps: {
      paths: [...global.timestamps.paths, ...route.timestamps.paths],
      auto: route.timestamps.auto ?? global.timestamps.auto,
      tolerance: route.timestamps.tolerance ?? global.timestamps.tolerance,
    },
    arrays: {
      unordered: [...global.arrays.unordered, ...route.arrays.unordered],
      keyed: [...global.arrays.keyed, ...route.arrays.keyed],
    },
    body: {
      maxDecodedBytes: route.body.maxDecodedBytes ?? global.body.maxDecodedBytes,
      maxDifferences: route.body.maxDifferences ?? global.body.maxDifferences,
    },
    noise: {
      relativeThreshold: route.noise.relativeThreshold ?? global.noise.relativeThreshold,
      absoluteThreshold: route.noise.absoluteThreshold ?? global.noise.absoluteThreshold,
      minSamples: route.noise.minSamples ?? global.noise.minSamples,
    },
  };
}

/**
 * Validates (through the same schema as cutover.yaml), merges and compiles.
 * Throws CUTOVER_ERR_CONFIG_INVALID listing every bad rule.
 * @example
 * const rules = compileRules({ ignore: ['$..updated_at'] }, { arrays: { keyed: [{ path: '$.items', key: 'id' }] } });
 * compareResponses(legacy, candidate, rules);
 */
export function compileRules(global: CompareRulesInput = {}, route?: CompareRulesInput): CompiledRules {
  const config = mergeRules(parseRules(global, 'compare'), route === undefined ? undefined : parseRules(route, 'rules'));
  const timestampTolerance = config.timestamps.tolerance ?? ENGINE_DEFAULTS.timestampTolerance;

  const patterns: PathPattern<RuleAction>[] = [];
  const add = (path: string, inherit: boolean, action: RuleAction): void => {
    patterns.push({ segments: parseJsonPath(path), inherit, action });
  };
  for (const path of config.ignore) add(path, true, { kind: 'ignore' });
  for (const path of config.caseInsensitive) add(path, true, { kind: 'caseInsensitive' });
  for (const entry of config.numbers.paths) add(entry.path, true, { kind: 'tolerance', tolerance: { absolute: entry.absolute, relative: entry.relative } });
  for (const entry of config.timestamps.paths) {
    if (typeof entry === 'string') add(entry, true, { kind: 'timestamp', tolerance: timestampTolerance });
    else add(entry.path, true, { kind: 'timestamp', tolerance: entry.tolerance });
  }
  // Array modes hold at the named array only, so a nested array keeps its own rule.
  for (const path of config.arrays.unordered) add(path, false, { kind: 'unordered' });
  for (const entry of config.arrays.keyed) add(entry.path, false, { kind: 'keyed', key: entry.key });

  let root: AutomatonState<NodeRules>;
  try {
    root = compilePathAutomaton(patterns, summariseNode);
  } catch (err) {
    throw new CutoverError(ErrorCodes.CONFIG_INVALID, (err as Error).message, { cause: err });
  }

  return Object.freeze({
    root,
    headers: compileHeaderRules({
      ignore: config.headers.ignore,
      only: config.headers.only,
      keep: config.headers.keep,
      defaultIgnores: config.headers.defaultIgnores ?? ENGINE_DEFAULTS.defaultIgnores,
    }),
    tolerance: {
      absolute: config.numbers.absolute ?? ENGINE_DEFAULTS.absolute,
      relative: config.numbers.relative ?? ENGINE_DEFAULTS.relative,
    },
    timestampAuto: config.timestamps.auto ?? ENGINE_DEFAULTS.timestampAuto,
    timestampTolerance,
    maxDecodedBytes: config.body.maxDecodedBytes ?? ENGINE_DEFAULTS.maxDecodedBytes,
    maxDifferences: config.body.maxDifferences ?? ENGINE_DEFAULTS.maxDifferences,
    noise: {
      relativeThreshold: config.noise.relativeThreshold ?? ENGINE_DEFAULTS.relativeThreshold,
      absoluteThreshold: config.noise.absoluteThreshold ?? ENGINE_DEFAULTS.absoluteThreshold,
      minSamples: config.noise.minSamples ?? ENGINE_DEFAULTS.minSamples,
    },
    config,
  });
}

function parseRules(input: CompareRulesInput, where: string): CompareRulesConfig {
  const result = compareRulesSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const at = issue.path.map((seg) => (typeof seg === 'number' ? `[${seg}]` : `.${String(seg)}`)).join('');
    return `${where}${at}: ${issue.message}`;
  });
  throw new CutoverError(ErrorCodes.CONFIG_INVALID, `invalid comparison rules:\n${problems.join('\n')}`, {
    hint: 'see docs/compare.md for the rule and path syntax',
    details: problems,
  });
}

// Later patterns win: route rules are appended after global ones.
function summariseNode(actions: readonly RuleAction[]): NodeRules {
  let ignore = false;
  let caseInsensitive = false;
  let tolerance: NumericTolerance | undefined;
  let timestampTolerance: number | undefined;
  let unordered = false;
  let keyedBy: string | undefined;
  for (const action of actions) {
    switch (action.kind) {
      case 'ignore':
        ignore = true;
        break;
      case 'caseInsensitive':
        caseInsensitive = true;
        break;
      case 'tolerance':
        tolerance = action.tolerance;
        break;
      case 'timestamp':
        timestampTolerance = action.tolerance;
        break;
      case 'unordered':
        unordered = true;
        keyedBy = undefined;
        break;
      case 'keyed':
        keyedBy = action.key;
        unordered = false;
        break;
    }
  }
  return { ignore, caseInsensitive, tolerance, timestampTolerance, unordered, keyedBy };
}
