import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyIdentifier, createEndpointTemplater, OVERFLOW_TEMPLATE, type IdentifierShape } from '../../../src/compare/index.ts';

describe('classifyIdentifier', () => {
  const table: Array<[string, IdentifierShape | undefined]> = [
    ['123', 'id'],
    ['0', 'id'],
    ['0b7e5a0c-1f0e-4d5a-9c1e-2b3f4a5b6c7d', 'uuid'],
    ['0B7E5A0C-1F0E-4D5A-9C1E-2B3F4A5B6C7D', 'uuid'],
    ['9f86d081884c7d659a2feaa0c55ad015', 'hex'],
    ['9f86d081884c7d65', 'hex'],
    ['9f86d081884c7d6', undefined],
    ['deadbeefdeadbeefdeadbeefdeadbeef', 'hex'],
    ['So11111111111111111111111111111111111111112', 'key'],
    ['EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v', 'key'],
    ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', 'key'],
    ['settings', undefined],
    ['introduction-to-typescript', undefined],
    ['averyveryverylongwordwithoutanything', undefined],
    ['ThisIsAVeryLongCamelCaseName', undefined],
    ['0OIl0OIl0OIl0OIl0OIlaB3', undefined],
    ['v2', undefined],
    ['', undefined],
  ];
  for (const [segment, shape] of table) {
    it(`${JSON.stringify(segment)} -> ${shape}`, () => assert.equal(classifyIdentifier(segment), shape));
  }
});

describe('createEndpointTemplater', () => {
  const table: Array<[string, string]> = [
    ['/users/123', '/users/{id}'],
    ['/users/456', '/users/{id}'],
    ['/users/123/orders?page=2', '/users/{id}/orders'],
    ['/orders/0b7e5a0c-1f0e-4d5a-9c1e-2b3f4a5b6c7d', '/orders/{uuid}'],
    ['/blobs/9f86d081884c7d659a2feaa0c55ad015/raw', '/blobs/{hex}/raw'],
    ['/api/token/So11111111111111111111111111111111111111112/safety', '/api/token/{key}/safety'],
    ['/', '/'],
    ['/health', '/health'],
    ['/a/b/', '/a/b/'],
  ];
  for (const [path, template] of table) {
    it(`${path} -> ${template}`, () => assert.equal(createEndpointTemplater().template('r', path), template));
  }

  it('learns high-cardinality literal segments as {param}', () => {
    const t = createEndpointTemplater({ maxLiteralsPerSegment: 3 });
    const got = ['alice', 'bob', 'carol', 'dave', 'erin', 'bob'].map((name) => t.template('r', `/profiles/${name}/posts`));
    assert.deepEqual(got, ['/profiles/alice/posts', '/profiles/bob/posts', '/profiles/carol/posts', '/profiles/{param}/posts', '/profiles/{param}/posts', '/profiles/bob/posts']);
  });

  it('caps distinct templates per route and puts the rest in the overflow bucket', () => {
    const t = createEndpointTemplater({ maxTemplatesPerRoute: 3, maxLiteralsPerSegment: 1000 });
    const got = ['/a', '/b', '/c', '/d', '/e', '/a'].map((p) => t.template('r', p));
    assert.deepEqual(got, ['/a', '/b', '/c', OVERFLOW_TEMPLATE, OVERFLOW_TEMPLATE, '/a']);
    assert.deepEqual(t.templates('r'), ['/a', '/b', '/c']);
  });

  it('keeps routes apart', () => {
    const t = createEndpointTemplater({ maxTemplatesPerRoute: 1 });
    assert.equal(t.template('one', '/x'), '/x');
    assert.equal(t.template('two', '/y'), '/y');
    assert.equal(t.template('one', '/y'), OVERFLOW_TEMPLATE);
  });

  it('bounds templates under hostile random paths', () => {
    const t = createEndpointTemplater({ maxTemplatesPerRoute: 50 });
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(t.template('r', `/x${i}/y${i * 7}/z${i % 13}`));
    assert.ok(seen.size <= 51, `${seen.size} templates`);
  });
});
