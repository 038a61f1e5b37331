import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createShadowLimiter } from '../../../src/dataplane/shadow-dispatcher.ts';

describe('shadow limiter', () => {
  it('runs up to maxConcurrency, queues up to maxQueue, refuses the rest', () => {
    const limiter = createShadowLimiter({ maxConcurrency: 2, maxQueue: 1 });
    const ran: number[] = [];
    const accepted = [1, 2, 3, 4].map((n) => limiter.submit(() => (ran.push(n), true)));
    assert.deepEqual(accepted, [true, true, true, false]);
    assert.deepEqual(ran, [1, 2]);
    assert.equal(limiter.active, 2);
    assert.equal(limiter.queued, 1);
    assert.equal(limiter.full, true, 'the next submit would be refused');
    limiter.release();
    assert.deepEqual(ran, [1, 2, 3]);
    assert.equal(limiter.active, 2);
    assert.equal(limiter.queued, 0);
    assert.equal(limiter.full, false, 'a queue slot is free again');
  });

  it('frees the slot of a task that declines, and skips past queued tasks that decline without recursion', () => {
    const limiter = createShadowLimiter({ maxConcurrency: 1, maxQueue: 200_000 });
    assert.ok(limiter.submit(() => true));
    let declined = 0;
    for (let i = 0; i < 200_000; i++) limiter.submit(() => (declined++, false));
    let started = false;
    limiter.submit(() => (started = true));
    assert.equal(limiter.queued, 200_000, 'one queued task fell off the bounded queue');
    limiter.release();
    assert.equal(declined, 200_000);
    assert.equal(limiter.active, 0);
    assert.equal(limiter.queued, 0);
    assert.equal(started, false);

    assert.ok(limiter.submit(() => false));
    assert.equal(limiter.active, 0, 'a task that declines at once gives its slot back');
  });

  it('starts queued tasks in arrival order, however long the queue', () => {
    const limiter = createShadowLimiter({ maxConcurrency: 1, maxQueue: 5_000 });
    const order: number[] = [];
    assert.ok(limiter.submit(() => true));
    for (let i = 0; i < 5_000; i++) limiter.submit(() => (order.push(i), true));
    for (let i = 0; i < 2_500; i++) limiter.release();
    // New arrivals after the queue has moved on go behind the ones still waiting.
    for (let i = 5_000; i < 7_500; i++) assert.ok(limiter.submit(() => (order.push(i), true)));
    for (let i = 0; i < 5_000; i++) limiter.release();
    assert.deepEqual(order, Array.from({ length: 7_500 }, (_, i) => i));
    assert.equal(limiter.queued, 0);
    assert.equal(limiter.active, 1);
  });
});
