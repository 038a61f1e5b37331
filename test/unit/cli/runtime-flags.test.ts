import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCutoverError } from '../../../src/core/errors.ts';
import { DEFAULT_SEMI_SPACE_MB, planRuntimeFlags, RELAUNCHED_ENV, SEMI_SPACE_ENV, type RuntimeFlagsPlan } from '../../../src/cli/runtime-flags.ts';

const relaunch = (mb: number): RuntimeFlagsPlan => ({ action: 'relaunch', flags: [`--max-semi-space-size=${mb}`] });

const cases: Array<{ name: string; execArgv?: string[]; env?: Record<string, string>; want: RuntimeFlagsPlan }> = [
  { name: 'defaults relaunch with the default semi-space', want: relaunch(DEFAULT_SEMI_SPACE_MB) },
  { name: 'other node flags do not count as a choice', execArgv: ['--enable-source-maps'], want: relaunch(DEFAULT_SEMI_SPACE_MB) },
  { name: 'the env variable picks the size', env: { [SEMI_SPACE_ENV]: '32' }, want: relaunch(32) },
  { name: 'surrounding blanks are fine', env: { [SEMI_SPACE_ENV]: ' 8 ' }, want: relaunch(8) },
  { name: 'an empty variable means the default', env: { [SEMI_SPACE_ENV]: '' }, want: relaunch(DEFAULT_SEMI_SPACE_MB) },
  { name: '0 keeps node defaults', env: { [SEMI_SPACE_ENV]: '0' }, want: { action: 'keep', reason: 'disabled' } },
  { name: 'the relaunched process never relaunches', env: { [RELAUNCHED_ENV]: '--max-semi-space-size=16' }, want: { action: 'keep', reason: 'relaunched' } },
  { name: 'a flag on the command line wins', execArgv: ['--max-semi-space-size=64'], want: { action: 'keep', reason: 'set-by-user' } },
  { name: 'underscore spelling counts too', execArgv: ['--max_semi_space_size=4'], want: { action: 'keep', reason: 'set-by-user' } },
  { name: 'a flag in NODE_OPTIONS wins', env: { NODE_OPTIONS: '--enable-source-maps --max-semi-space-size 8' }, want: { action: 'keep', reason: 'set-by-user' } },
  { name: 'a flag beats the env variable', execArgv: ['--max-semi-space-size=2'], env: { [SEMI_SPACE_ENV]: '32' }, want: { action: 'keep', reason: 'set-by-user' } },
  { name: 'a longer flag with the same prefix is not it', execArgv: ['--max-semi-space-size-foo'], want: relaunch(DEFAULT_SEMI_SPACE_MB) },
];

for (const c of cases) {
  test(`planRuntimeFlags: ${c.name}`, () => {
    assert.deepEqual(planRuntimeFlags({ execArgv: c.execArgv ?? [], env: c.env ?? {} }), c.want);
  });
}

for (const bad of ['abc', '-1', '1.5', '16MB', '2048']) {
  test(`planRuntimeFlags: ${SEMI_SPACE_ENV}=${bad} is refused with a hint`, () => {
    assert.throws(
      () => planRuntimeFlags({ execArgv: [], env: { [SEMI_SPACE_ENV]: bad } }),
      (err: unknown) => isCutoverError(err) && err.message.includes(SEMI_SPACE_ENV) && err.message.includes(`'${bad}'`) && /unset it/.test(err.hint ?? ''),
    );
  });
}
