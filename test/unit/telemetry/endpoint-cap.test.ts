import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OTHER, createEndpointCap } from '../../../src/controlplane/telemetry/endpoint-cap.ts';

describe('endpoint cap', () => {
  it('keeps the first N endpoints of a route and folds the rest into {other}', () => {
    const cap = createEndpointCap(200);
    const out = new Set<string>();
    for (let i = 0; i < 10_000; i++) out.add(cap.endpoint('default', `/p/${i}`));
    assert.equal(out.size, 201);
    assert.ok(out.has(OTHER));
    assert.equal(cap.endpoint('default', '/p/7'), '/p/7', 'a known endpoint stays itself');
    assert.equal(cap.overflow().get('default'), 9_800);
    assert.equal(cap.endpoint('other-route', '/p/9999'), '/p/9999', 'the limit is per route');
  });

  it('applies a lowered limit to new endpoints only', () => {
    const cap = createEndpointCap(3);
    for (const e of ['/a', '/b']) cap.endpoint('r', e);
    cap.setLimit(2);
    assert.equal(cap.endpoint('r', '/a'), '/a');
    assert.equal(cap.endpoint('r', '/c'), OTHER);
  });

  it('bounds route ids too', () => {
    const cap = createEndpointCap(10, 2);
    cap.endpoint(cap.route('a'), '/');
    cap.endpoint(cap.route('b'), '/');
    assert.equal(cap.route('c'), OTHER);
    assert.equal(cap.route('a'), 'a');
  });
});
