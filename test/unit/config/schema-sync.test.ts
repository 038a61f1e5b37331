import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigReference, REFERENCE_FILE } from '../../../scripts/generate-config-reference.ts';
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

test('docs/configuration.md matches src/config/schema.ts', () => {
  const committed = readFileSync(REFERENCE_FILE, 'utf8');
  const fresh = renderConfigReference();
  assert.ok(committed === fresh, 'docs/configuration.md is out of date with src/config/schema.ts: run npm run schema');
});

test('the configuration reference lists every key with a meaning', () => {
  const text = renderConfigReference();
  const rows = text.split('\n').filter((l) => l.startsWith('| `'));
  const keys = rows.map((l) => /^\| `([^`]+)`/.exec(l)![1]);
  for (const key of ['listen', 'admin.token', 'backends.legacy', 'backends.<side>.url', 'routes[].stickiness', 'routes[].component', 'compare.ignore', 'gates.maxP95Ms', 'plans.<name>.steps', 'killSwitch.env']) {
    assert.ok(keys.includes(key), `${key} is missing from docs/configuration.md`);
  }
  const unexplained = rows.filter((l) => / \|  \|$/.test(l));
  assert.deepEqual(unexplained, [], 'keys without a meaning: add a .meta({ description }) in the schema, or an entry in MEANINGS');
  assert.match(text, /\| `shutdownTimeout` \| duration \| `10000` \(10s\) \|/);
});
