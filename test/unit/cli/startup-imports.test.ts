/**
 * `cutover rollback` must reach the admin API at once, so the CLI may not
 * load the heavy modules (the config schema, the runtime, undici) before it
 * knows which command runs. This records what `cutover --version` resolves.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const HOOK = `import { registerHooks } from 'node:module';
registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); process.stderr.write('RESOLVED ' + r.url + '\\n'); return r; } });
`;

function resolvedBy(args: string[]): { urls: string[]; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-cli-'));
  try {
    const hook = join(dir, 'hook.mjs');
    writeFileSync(hook, HOOK);
    const run = spawnSync(process.execPath, ['--import', hook, join(root, 'bin/cutover.js'), ...args], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const urls = run.stderr.split('\n').filter((l) => l.startsWith('RESOLVED ')).map((l) => l.slice('RESOLVED '.length));
    return { urls, stdout: run.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('cutover --version loads no heavy module', () => {
  const { urls, stdout } = resolvedBy(['--version']);
  assert.match(stdout, /^\d+\.\d+\.\d+/);
  assert.ok(urls.some((u) => u.endsWith('/src/cli/main.ts')), 'the hook saw the CLI load');
  for (const heavy of ['/node_modules/zod/', '/node_modules/undici/', '/node_modules/yaml/', '/node_modules/pino/', '/src/controlplane/runtime.ts', '/src/config/schema.ts']) {
    const hit = urls.find((u) => u.includes(heavy));
    assert.equal(hit, undefined, `${heavy} was loaded at start-up (${hit}); import it inside the command's action`);
  }
});
