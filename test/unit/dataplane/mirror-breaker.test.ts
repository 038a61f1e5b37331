import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMirrorBreaker, type Admission, type BreakerChange } from '../../../src/dataplane/mirror-breaker.ts';

type Step =
  | { at: number; admit: Admission }
  | { at: number; record: Admission; ok: boolean }
  /** A peek that must agree with what admit would say, and change nothing. */
  | { at: number; refusing: boolean }
  | { state: 'closed' | 'open' | 'half_open' };

const cases: Array<{ name: string; failures: number; cooldownMs: number; steps: Step[]; changes?: string[] }> = [
  {
    name: 'stays closed while failures are not consecutive',
    failures: 3,
    cooldownMs: 100,
    steps: [
      { at: 0, record: 'normal', ok: false },
      { at: 1, record: 'normal', ok: false },
      { at: 2, record: 'normal', ok: true },
      { at: 3, record: 'normal', ok: false },
      { at: 4, record: 'normal', ok: false },
      { state: 'closed' },
      { at: 5, admit: 'normal' },
    ],
    changes: [],
  },
  {
    name: 'opens after N failures in a row and refuses until the cooldown ends',
    failures: 3,
    cooldownMs: 100,
    steps: [
      { at: 0, record: 'normal', ok: false },
      { at: 1, record: 'normal', ok: false },
      { at: 2, record: 'normal', ok: false },
      { state: 'open' },
      { at: 50, refusing: true },
      { at: 50, admit: 'refused' },
      { at: 101, admit: 'refused' },
      { at: 102, refusing: false },
      { state: 'open' },
      { at: 102, admit: 'trial' },
      { state: 'half_open' },
      { at: 103, refusing: true },
      { at: 103, admit: 'refused' },
    ],
    changes: ['open 3 100', 'half_open 3 0'],
  },
  {
    name: 'a successful trial closes it; a failed one reopens it for twice as long',
    failures: 1,
    cooldownMs: 100,
    steps: [
      { at: 0, record: 'normal', ok: false },
      { at: 100, admit: 'trial' },
      { at: 110, record: 'trial', ok: false },
      { at: 300, admit: 'refused' },
      { at: 310, admit: 'trial' },
      { at: 320, record: 'trial', ok: true },
      { state: 'closed' },
      { at: 321, refusing: false },
      { at: 321, admit: 'normal' },
      { at: 322, record: 'normal', ok: false },
      { at: 421, admit: 'refused' },
      { at: 422, admit: 'trial' },
    ],
    changes: ['open 1 100', 'half_open 1 0', 'open 2 200', 'half_open 2 0', 'closed 0 0', 'open 1 100', 'half_open 1 0'],
  },
  {
    name: 'mirrors sent before it opened do not move it while open',
    failures: 2,
    cooldownMs: 100,
    steps: [
      { at: 0, record: 'normal', ok: false },
      { at: 1, record: 'normal', ok: false },
      { at: 2, record: 'normal', ok: true },
      { at: 3, record: 'normal', ok: false },
      { state: 'open' },
      { at: 102, admit: 'trial' },
    ],
    changes: ['open 2 100', 'half_open 2 0'],
  },
  {
    name: 'failures: 0 never opens',
    failures: 0,
    cooldownMs: 100,
    steps: [
      { at: 0, record: 'normal', ok: false },
      { at: 1, record: 'normal', ok: false },
      { at: 2, admit: 'normal' },
      { at: 2, refusing: false },
      { state: 'closed' },
    ],
  },
];

describe('mirror circuit breaker', () => {
  for (const c of cases) {
    it(c.name, () => {
      const changes: string[] = [];
      const breaker = createMirrorBreaker({
        failures: c.failures,
        cooldownMs: c.cooldownMs,
        onChange: (x: BreakerChange) => changes.push(`${x.state} ${x.failures} ${x.cooldownMs}`),
      });
      c.steps.forEach((step, i) => {
        if ('state' in step) assert.equal(breaker.state, step.state, `step ${i}: state`);
        else if ('refusing' in step) assert.equal(breaker.refusing(step.at), step.refusing, `step ${i}: refusing at ${step.at}`);
        else if ('admit' in step) assert.equal(breaker.admit(step.at), step.admit, `step ${i}: admit at ${step.at}`);
        else breaker.record(step.record, step.ok, step.at);
      });
      if (c.changes !== undefined) assert.deepEqual(changes, c.changes);
    });
  }

  it('caps the cooldown', () => {
    const breaker = createMirrorBreaker({ failures: 1, cooldownMs: 100, maxCooldownMs: 250 });
    breaker.record('normal', false, 0);
    let t = 0;
    const cooldowns: number[] = [];
    for (let i = 0; i < 4; i++) {
      let opensAt = t;
      while (breaker.admit(opensAt) !== 'trial') opensAt += 10;
      cooldowns.push(opensAt - t);
      t = opensAt;
      breaker.record('trial', false, t);
    }
    assert.deepEqual(cooldowns, [100, 200, 250, 250]);
  });
});
