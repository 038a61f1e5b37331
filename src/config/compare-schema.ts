/**
 * Comparison rules as written in cutover.yaml: the global `compare:` key and
 * each route's `rules:` key. src/compare/rules.ts compiles them.
 *
 * Route rules extend global ones: lists are appended after the global lists
 * (later entries win where rules overlap), and a scalar set on the route
 * replaces the global one. Scalars therefore default to `null`, meaning
 * "not set here", so a route can tell "inherit" from "set back to the
 * engine default"; the effective default is named in each description.
 */
import { z } from 'zod';
import { tryParseDuration } from '../core/duration.ts';
import { tryParseJsonPath } from '../compare/json-path.ts';

/** A rule path such as `$.items[*].id` or `$..updated_at`, checked when the config loads. */
export const rulePathSchema = z
  .string()
  .superRefine((path, ctx) => {
    const parsed = tryParseJsonPath(path);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  })
  .meta({ description: 'A body path: $, .name, [\'any key\'], [3], .*, [*], and .. for any depth, e.g. $.items[*].id or $..updated_at.' });

const headerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'+.^_`|~-]+\*?$/, 'expected a header name such as x-request-id, optionally ending with * to match a prefix (x-b3-*)')
  .meta({ description: 'Header name, case-insensitive; a trailing * matches a prefix (x-b3-*).' });

const toleranceMsSchema = z
  .union([z.number().nonnegative(), z.string()])
  .transform((value, ctx) => {
    const ms = tryParseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; write 0, 500ms, 1s or 2m` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'Milliseconds as a number, or a string such as 500ms or 1s.' });

const nonNegative = z.number().nonnegative();

const numericToleranceSchema = z
  .object({
    path: rulePathSchema,
    absolute: nonNegative.default(0).meta({ description: 'Numbers at this path are equal when |a-b| <= absolute.' }),
    relative: nonNegative.default(0).meta({ description: 'Numbers at this path are equal when |a-b| <= relative * max(|a|, |b|), e.g. 0.001 for 0.1%.' }),
  })
  .strict();

const timestampPathSchema = z.union([
  rulePathSchema,
  z
    .object({
      path: rulePathSchema,
      tolerance: toleranceMsSchema.default(0).meta({ description: 'Instants at this path are equal when at most this far apart.' }),
    })
    .strict(),
]);

const keyedArraySchema = z
  .object({
    path: rulePathSchema,
    key: z.string().min(1, 'key names the member that identifies an element, e.g. id').meta({ description: 'Member of each element that identifies it, e.g. id.' }),
  })
  .strict();

export const compareRulesSchema = z
  .object({
    ignore: z.array(rulePathSchema).default([]).meta({ description: 'Body paths never compared (with everything below them), e.g. $.meta.*, $..updated_at.' }),
    caseInsensitive: z.array(rulePathSchema).default([]).meta({ description: 'Body paths whose strings are compared ignoring case.' }),
    headers: z
      .object({
        ignore: z.array(headerNameSchema).default([]).meta({ description: 'Headers ignored in addition to the default list.' }),
        only: z.array(headerNameSchema).default([]).meta({ description: 'When not empty, only these headers are compared.' }),
        keep: z.array(headerNameSchema).default([]).meta({ description: 'Names taken off the default ignore list, e.g. etag.' }),
        defaultIgnores: z.boolean().nullable().default(null).meta({ description: 'Apply the default ignore list (Date, Server, trace ids…). null inherits; engine default true.' }),
      })
      .strict()
      .prefault({}),
    numbers: z
      .object({
        absolute: nonNegative.nullable().default(null).meta({ description: 'Tolerance |a-b| for every number. null inherits; engine default 0.' }),
        relative: nonNegative.nullable().default(null).meta({ description: 'Tolerance |a-b|/max(|a|,|b|) for every number. null inherits; engine default 0.' }),
        paths: z.array(numericToleranceSchema).default([]).meta({ description: 'Per-path tolerances; the last matching entry wins.' }),
      })
      .strict()
      .prefault({}),
    timestamps: z
      .object({
        paths: z.array(timestampPathSchema).default([]).meta({ description: 'Paths holding instants: ISO-8601 (any zone, any precision), epoch s/ms/µs/ns, HTTP dates.' }),
        auto: z.boolean().nullable().default(null).meta({ description: 'Also treat any ISO-8601 string (against ISO-8601 or a plausible epoch number) as an instant. null inherits; engine default false.' }),
        tolerance: toleranceMsSchema.nullable().default(null).meta({ description: 'Default distance under which two instants are equal. null inherits; engine default 0.' }),
      })
      .strict()
      .prefault({}),
    arrays: z
      .object({
        unordered: z.array(rulePathSchema).default([]).meta({ description: 'Arrays compared as multisets: order is ignored.' }),
        keyed: z.array(keyedArraySchema).default([]).meta({ description: 'Arrays of objects whose elements are matched by a key member, wherever they are.' }),
      })
      .strict()
      .prefault({}),
    body: z
      .object({
        maxDecodedBytes: z.number().int().positive().nullable().default(null).meta({ description: 'Largest body after gzip/br/deflate/zstd decoding; larger bodies are compared by digest of the raw bytes. null inherits; engine default 33554432 (32 MiB).' }),
        maxDifferences: z.number().int().positive().nullable().default(null).meta({ description: 'Differences kept per comparison; the walk stops after that. null inherits; engine default 100.' }),
      })
      .strict()
      .prefault({}),
    noise: z
      .object({
        relativeThreshold: z.number().min(0).max(1).nullable().default(null).meta({ description: 'A path is signal when |raw-noise|/(raw+noise) exceeds this (rates). null inherits; engine default 0.2.' }),
        absoluteThreshold: z.number().min(0).max(1).nullable().default(null).meta({ description: 'A path is signal when |raw-noise| rate exceeds this. null inherits; engine default 0.0003 (0.03%).' }),
        minSamples: z.number().int().nonnegative().nullable().default(null).meta({ description: 'Noise samples needed per endpoint before a path may be classified. null inherits; engine default 20.' }),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type CompareRulesConfig = z.output<typeof compareRulesSchema>;
export type CompareRulesInput = z.input<typeof compareRulesSchema>;
