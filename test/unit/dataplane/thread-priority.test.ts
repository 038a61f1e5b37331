import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultMirrorScheduling, isThreadScheduling } from '../../../src/dataplane/thread-priority.ts';

describe('defaultMirrorScheduling', () => {
  const cases: Array<[cpus: number, proxyingThreads: number, expected: string]> = [
    [1, 1, 'idle'], // pinned to one core: the mirror thread takes only what the proxy leaves
    [2, 1, 'normal'], // a spare core: no client to compete with
    [2, 2, 'idle'], // two workers on two cores
    [4, 8, 'idle'],
    [16, 4, 'normal'],
  ];
  for (const [cpus, threads, expected] of cases) {
    it(`${cpus} CPUs, ${threads} proxying threads -> ${expected}`, () => assert.equal(defaultMirrorScheduling(cpus, threads), expected));
  }
});

describe('isThreadScheduling', () => {
  for (const v of ['normal', 'nice', 'idle']) it(`accepts ${v}`, () => assert.equal(isThreadScheduling(v), true));
  for (const v of ['', 'IDLE', 'batch', undefined, 0]) it(`rejects ${String(v)}`, () => assert.equal(isThreadScheduling(v), false));
});
