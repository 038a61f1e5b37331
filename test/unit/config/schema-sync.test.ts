import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigJsonSchema, SCHEMA_FILE } from '../../../scripts/generate-schema.ts';

test('docs/cutover.schema.json matches src/config/schema.ts', () => {
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  const fresh = renderConfigJsonSchema();
  assert.ok(committed === fresh, 'docs/cutover.schema.json is out of date with src/config/schema.ts: run npm run schema');
});

test('the JSON Schema is self-describing and rendered the same way twice', () => {
  const text = renderConfigJsonSchema();
  assert.equal(text, renderConfigJsonSchema());
  assert.ok(text.endsWith('}\n'));
  const schema = JSON.parse(text) as Record<string, any>;
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.match(schema.$id, /^https:\/\//);
  assert.equal(typeof schema.title, 'string');
  assert.equal(typeof schema.description, 'string');
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.required, ['backends']);
  // Input side: durations accept strings, and their defaults survive the transform.
  assert.equal(schema.properties.shutdownTimeout.default, 10_000);
  assert.deepEqual(
    schema.properties.shutdownTimeout.anyOf.map((s: { type: string }) => s.type),
    ['number', 'string'],
  );
  assert.equal(schema.properties.listen.default, '127.0.0.1:8080');
});
