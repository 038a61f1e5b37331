import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildProgram, commandOf } from '../../../src/cli/main.ts';

const cases: Array<[string[], string | undefined]> = [
  [['run'], 'run'],
  [['run', '--legacy', 'http://a'], 'run'],
  [['--token', 'secret', 'run'], 'run'],
  [['--token=secret', 'run'], 'run'],
  [['--admin-url', 'http://127.0.0.1:9090', 'status', '--json'], 'status'],
  [['--admin-url', 'http://127.0.0.1:9090', '--token', 't', 'rollback', 'checkout'], 'rollback'],
  [['--version'], undefined],
  [[], undefined],
];

for (const [args, want] of cases) {
  test(`commandOf: cutover ${args.join(' ') || '(nothing)'} -> ${want}`, () => {
    assert.equal(commandOf(['node', 'cutover', ...args], buildProgram()), want);
  });
}
