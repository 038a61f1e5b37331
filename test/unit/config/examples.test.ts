/**
 * Every example config must stay valid as the schema changes: this loads each
 * file in examples/configs (and the demo's) exactly as `cutover validate` does.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadConfigFile } from '../../../src/config/load.ts';
import { describeError } from '../../../src/cli/exit-codes.ts';
import type { CutoverConfig } from '../../../src/config/schema.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONFIGS = join(ROOT, 'examples/configs');
const files = readdirSync(CONFIGS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

function load(file: string): CutoverConfig {
  try {
    return loadConfigFile(file);
  } catch (err) {
    assert.fail(`${file} no longer validates:\n${describeError(err)}`);
  }
}

describe('example configs validate', () => {
  test('there is one example per seed plan', () => {
    assert.deepEqual(files, ['gis-platform.yaml', 'policy-proxy.yaml', 'trading-api.yaml', 'wallet.yaml', 'whatsapp-bots.yaml']);
  });

  for (const name of files) {
    test(`examples/configs/${name}`, () => {
      const cfg = load(join(CONFIGS, name));
      assert.ok(cfg.routes.length > 0);
      assert.ok(Object.keys(cfg.plans).length > 0, `${name} has no rollout plan`);
    });
  }

  test('examples/demo/cutover.yaml (npm start)', () => {
    const cfg = load(join(ROOT, 'examples/demo/cutover.yaml'));
    assert.deepEqual(
      cfg.routes.map((r) => [r.id, r.mode, r.percent, r.stickiness]),
      [
        ['products', 'shadow', undefined, undefined],
        ['orders', 'canary', 10, 'header:x-user-id'],
        ['health', 'candidate', undefined, undefined],
      ],
    );
    assert.equal(cfg.defaults.mode, 'legacy');
  });

  test('each example shows what its plan asked for', () => {
    const policy = load(join(CONFIGS, 'policy-proxy.yaml'));
    assert.equal(policy.gates.maxP95Ms, 2);

    const trading = load(join(CONFIGS, 'trading-api.yaml'));
    assert.ok(trading.routes.some((r) => r.id === 'ws'));
    assert.ok(trading.routes.some((r) => r.id === 'sse'));
    assert.equal(trading.killSwitch.env, 'TRADING_USE_PYTHON');

    const wallet = load(join(CONFIGS, 'wallet.yaml'));
    assert.deepEqual(new Set(wallet.routes.flatMap((r) => (r.component ? [r.component] : []))), new Set(['chain', 'wallet']));
    assert.ok('chain' in wallet.plans && 'wallet' in wallet.plans);

    const gis = load(join(CONFIGS, 'gis-platform.yaml'));
    assert.deepEqual(new Set(gis.routes.flatMap((r) => (r.component ? [r.component] : []))), new Set(['gateway', 'sync', 'gis-export']));
    assert.deepEqual(Object.keys(gis.plans).sort(), ['gateway', 'gis-export', 'sync']);

    const bots = load(join(CONFIGS, 'whatsapp-bots.yaml'));
    assert.equal(bots.defaults.stickiness, 'header:x-bot-id');
  });
});
