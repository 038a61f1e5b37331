import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packBodies, unpackBody } from '../../../src/dataplane/mirror-protocol.ts';

describe('packBodies / unpackBody', () => {
  const cases: Array<{ name: string; parts: Array<Buffer | null> }> = [
    { name: 'no parts', parts: [] },
    { name: 'only absent bodies', parts: [null, null] },
    { name: 'empty and absent bodies', parts: [Buffer.alloc(0), null] },
    { name: 'bodies between absent and empty ones', parts: [Buffer.from('abc'), null, Buffer.alloc(0), Buffer.from('{"x":1}')] },
    // Small Buffers are views into Node's shared pool: packing must copy exactly their bytes, not the pool around them.
    { name: 'pooled views', parts: [Buffer.from('left'), Buffer.from('right')] },
  ];
  for (const { name, parts } of cases) {
    it(`round-trips ${name}`, () => {
      const { buffer, offsets } = packBodies(parts);
      assert.equal(offsets.length, parts.length);
      const total = parts.reduce((n, p) => n + (p?.length ?? 0), 0);
      assert.equal(buffer?.byteLength ?? 0, total, 'one buffer of exactly the bytes packed');
      parts.forEach((part, i) => {
        const back = unpackBody(buffer, offsets[i]!, part?.length ?? 0);
        if (part === null) assert.equal(back, null, `part ${i} stays absent`);
        else assert.deepEqual(back, part, `part ${i}`);
      });
    });
  }

  it('gives a transferable buffer that owns its bytes', () => {
    const source = Buffer.from('payload');
    const { buffer } = packBodies([source]);
    assert.ok(buffer instanceof ArrayBuffer);
    assert.notEqual(buffer, source.buffer);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(buffer, [buffer!]);
    assert.equal(buffer!.byteLength, 0, 'detached by the transfer');
    assert.deepEqual(source, Buffer.from('payload'), 'the source is untouched');
    port1.close();
    port2.close();
  });
});
