/**
 * Writes docs/cutover.schema.json from the zod config schema, so editors can
 * validate and complete cutover.yaml. `npm run schema` after any schema change;
 * test/unit/config/schema-sync.test.ts fails when the committed file is stale.
 *
 * The schema describes the input side (what a user writes): durations accept
 * numbers or strings, defaulted keys are optional.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../docs/cutover.schema.json', import.meta.url));
export const SCHEMA_ID = 'https://cutover.dev/schema/cutover.schema.json';

/**
 * The JSON Schema as text, with a trailing newline. Keys keep the order of
 * src/config/schema.ts, which zod reproduces exactly, so the output is stable.
 */
export function renderConfigJsonSchema(): string {
  const generated = z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
    reused: 'inline',
    cycles: 'ref',
    // zod leaves out the default of a transformed value (a duration) on the input
    // side; every default here is also valid input, so it is put back for editors.
    override: (ctx) => {
      const def = ctx.zodSchema._zod.def as { type: string; defaultValue?: unknown };
      if (def.type === 'default' && ctx.jsonSchema.default === undefined && def.defaultValue !== undefined) {
        ctx.jsonSchema.default = JSON.parse(JSON.stringify(def.defaultValue)) as unknown;
      }
    },
  }) as Record<string, unknown>;
  const { $schema: _drop, ...body } = generated;
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'cutover.yaml',
    description:
      'Configuration of cutover, the reverse proxy that moves live HTTP traffic from a legacy backend to its rewrite. Generated from src/config/schema.ts by `npm run schema`; do not edit by hand.',
    ...body,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, renderConfigJsonSchema());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
