import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRotatingWriter, rotatedPath } from '../../../src/controlplane/record/ndjson-rotating-writer.ts';
import { parseRate, parseSize } from '../../../src/controlplane/record/record-request.ts';

describe('rotating NDJSON writer', () => {
  it('names rotated files before the extension', () => {
    assert.equal(rotatedPath('/d/traffic.ndjson', 0), '/d/traffic.ndjson');
    assert.equal(rotatedPath('/d/traffic.ndjson', 2), '/d/traffic.2.ndjson');
  });

  it('rotates by size without splitting a line, and keeps every line in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-rot-'));
    try {
      const path = join(dir, 'traffic.ndjson');
      const w = await createRotatingWriter({ path, maxSize: 100, flushMs: 5 });
      const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(20) }));
      for (const l of lines.slice(0, 10)) assert.equal(w.write(l), true);
      await new Promise((r) => setTimeout(r, 30));
      for (const l of lines.slice(10)) w.write(l);
      await w.close();
      const stats = w.stats();
      assert.equal(stats.lines, 20);
      assert.ok(stats.files.length > 3, `expected several files, got ${stats.files.length}`);
      const read = stats.files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
      assert.deepEqual(read, lines);
      for (const f of stats.files) assert.ok(readFileSync(f).length <= 100 || readFileSync(f, 'utf8').split('\n').filter(Boolean).length === 1);
      assert.equal(existsSync(rotatedPath(path, stats.files.length)), false);
      assert.equal(w.write('late'), false, 'a closed writer takes nothing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops and counts lines beyond its backlog instead of growing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-rot-'));
    try {
      const w = await createRotatingWriter({ path: join(dir, 't.ndjson'), maxSize: 1 << 20, flushMs: 60_000, maxPendingBytes: 50 });
      assert.equal(w.write('a'.repeat(30)), true);
      assert.equal(w.write('b'.repeat(30)), false);
      await w.close();
      assert.deepEqual([w.stats().lines, w.stats().dropped], [1, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails at once on a path it cannot write', async () => {
    await assert.rejects(createRotatingWriter({ path: '/nonexistent-dir/x/t.ndjson', maxSize: 1024 }), /ENOENT/);
  });
});

describe('record request parsing', () => {
  it('reads rates and sizes the way the CLI writes them', () => {
    assert.equal(parseRate('5%'), 0.05);
    assert.equal(parseRate(0.25), 0.25);
    assert.equal(parseRate('100%'), 1);
    assert.throws(() => parseRate('0%'), /rate/);
    assert.throws(() => parseRate('150%'), /rate/);
    assert.equal(parseSize('100MB'), 100 * 1024 * 1024);
    assert.equal(parseSize('1.5kb'), 1536);
    assert.throws(() => parseSize('12 parsecs'), /max size/);
  });
});
