import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CapturedResponse } from '../../../src/dataplane/events.ts';
import { formatProgress } from '../../../src/replay/replay-progress.ts';
import { checkExpectations, loadScenarios } from '../../../src/replay/scenarios.ts';

const answer = (status: number, doc: unknown, headers: Record<string, string> = {}): CapturedResponse => ({
  backend: 'legacy',
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.from(JSON.stringify(doc)),
  truncated: false,
  ttfbMs: 1,
  totalMs: 1,
});

describe('scenario files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-scn-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('loads a list and checks status, JSON paths and headers', () => {
    const [s] = loadScenarios(
      file('a.yaml', `- name: hacker\n  request: { method: POST, path: /v1/decide, json: { user: mallory } }\n  expect: { status: 403, json: { $.decision: deny, "$.reasons[0]": no-role }, headers: { X-Policy: v2 } }\n`),
    );
    assert.equal(s!.name, 'hacker');
    assert.deepEqual(checkExpectations(s!, answer(403, { decision: 'deny', reasons: ['no-role'] }, { 'x-policy': 'v2' })).failures, []);
    assert.deepEqual(checkExpectations(s!, answer(200, { decision: 'allow', reasons: [] })).failures, [
      'status 200, expected 403',
      '$.decision = "allow", expected "deny"',
      '$.reasons[0] missing, expected "no-role"',
      'header x-policy = (absent), expected "v2"',
    ]);
    const failed = checkExpectations(s!, { ...answer(0, {}), failure: 'connect_refused' });
    assert.deepEqual([failed.ok, failed.failures], [false, ['no answer (connect_refused)']]);
  });

  it('says where a file is wrong', () => {
    assert.throws(() => loadScenarios(file('b.yaml', '- name: x\n  request: { path: nope }\n')), /request\.path/);
    assert.throws(() => loadScenarios(file('c.yaml', '- name: x\n  request: { path: /a }\n  expect: { json: { "$..deep": 1 } }\n')), /plain JSON path/);
    assert.throws(() => loadScenarios(join(dir, 'missing.yaml')), /cannot read/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('replay progress line', () => {
  it('shows done/total, rate, ETA and mismatches', () => {
    const line = formatProgress({ done: 2000, sent: 2100, mismatches: 7, matches: 1993, skipped: 0, badLines: 0, elapsedMs: 1000 }, 10_000);
    assert.equal(line, 'replay 2000/10000 (20.0%)  2000 req/s  ETA 4s  mismatches 7');
  });
});
