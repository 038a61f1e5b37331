/**
 * Issue 2, items 1-3: ordered route matching, canary stickiness (split and
 * monotonicity on 10,000 keys, every stickiness kind, the client-IP fallback)
 * and the tester override header — through a real `cutover run` process.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, Pool, request } from 'undici';
import { stickyBucket } from '../../../src/dataplane/sticky-hash.ts';
import { startBackend, type Backend, type Handler } from '../../helpers/backends.ts';
import { startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';
import { createClient, type Client } from '../../helpers/http.ts';

const SECRET = 'tester-secret-42';

describe('routing: ordered routes, first match wins, default route', () => {
  let legacy: Backend | undefined;
  let candidate: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  let client: Client | undefined;

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    dir = tempDir();
    cutover = await startCutoverProcess({
      dir,
      config: {
        backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
        override: { secret: SECRET },
        routes: [
          { id: 'order-first', match: { path: '/order/*' }, mode: 'candidate' },
          { id: 'order-second', match: { path: '/order/a' }, mode: 'legacy' },
          { id: 'token-safety', match: { methods: ['GET'], path: '/api/token/:mint/safety' }, mode: 'candidate' },
          { id: 'items-delete', match: { methods: ['DELETE'], path: '/api/items/:id' }, mode: 'candidate' },
          { id: 'static', match: { path: '/static/*' }, mode: 'candidate' },
          { id: 'exact', match: { path: '/exact' }, mode: 'candidate' },
          { id: 'prefix', match: { path: '/pre', pathType: 'prefix' }, mode: 'candidate' },
          { id: 'beta-tenant', match: { path: '/tenant', headers: { 'X-Tenant': 'beta' } }, mode: 'candidate' },
          { id: 'legacy-only', match: { path: '/legacy-only' }, mode: 'legacy' },
        ],
      },
    });
    client = createClient();
  });

  after(async () => {
    await client?.close();
    await cutover?.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  const served = async (path: string, options: { method?: 'GET' | 'POST' | 'DELETE'; headers?: Record<string, string> } = {}) => {
    const res = await client!.send(cutover!.proxyUrl + path, options);
    assert.equal(res.status, 200, `${options.method ?? 'GET'} ${path}: ${res.text}`);
    return res.json<{ backend: string; url: string; headers: Record<string, string> }>();
  };

  it('first match wins: /order/a hits the earlier /order/* (candidate), not the later exact route (legacy)', async () => {
    assert.equal((await served('/order/a')).backend, 'candidate');
    assert.equal((await served('/order/b/c')).backend, 'candidate');
  });

  it('unmatched paths go to the default route (legacy by default)', async () => {
    assert.equal((await served('/nothing/here')).backend, 'legacy');
    assert.equal((await served('/')).backend, 'legacy');
  });

  it('path templates with :params match one non-empty segment', async () => {
    assert.equal((await served('/api/token/So11111111111111111111111111111111111111112/safety')).backend, 'candidate');
    assert.equal((await served('/api/token/abc/safety?x=1')).backend, 'candidate');
    assert.equal((await served('/api/token/abc/other')).backend, 'legacy');
    assert.equal((await served('/api/token//safety')).backend, 'legacy');
    assert.equal((await served('/api/token/abc/safety/more')).backend, 'legacy');
  });

  it('method match: the GET-only route does not take POST; the DELETE-only route does not take GET', async () => {
    assert.equal((await served('/api/token/abc/safety', { method: 'POST' })).backend, 'legacy');
    assert.equal((await served('/api/items/7', { method: 'DELETE' })).backend, 'candidate');
    assert.equal((await served('/api/items/7')).backend, 'legacy');
  });

  it('/static/* matches anything under /static', async () => {
    assert.equal((await served('/static/app.js')).backend, 'candidate');
    assert.equal((await served('/static/img/logo.png')).backend, 'candidate');
    assert.equal((await served('/staticfile')).backend, 'legacy');
  });

  it('exact paths match only themselves', async () => {
    assert.equal((await served('/exact')).backend, 'candidate');
    assert.equal((await served('/exact?q=1')).backend, 'candidate');
    assert.equal((await served('/exact/more')).backend, 'legacy');
    assert.equal((await served('/exactly')).backend, 'legacy');
  });

  it('prefix paths match the prefix and everything below it, on segment boundaries', async () => {
    assert.equal((await served('/pre')).backend, 'candidate');
    assert.equal((await served('/pre/x/y')).backend, 'candidate');
    assert.equal((await served('/prefix')).backend, 'legacy');
  });

  it('header match needs the exact value (header names are case-insensitive)', async () => {
    assert.equal((await served('/tenant', { headers: { 'x-tenant': 'beta' } })).backend, 'candidate');
    assert.equal((await served('/tenant', { headers: { 'X-TENANT': 'beta' } })).backend, 'candidate');
    assert.equal((await served('/tenant', { headers: { 'x-tenant': 'Beta' } })).backend, 'legacy');
    assert.equal((await served('/tenant')).backend, 'legacy');
  });

  it('the request path and query reach the backend unchanged', async () => {
    assert.equal((await served('/static/a%20b.js?v=1&w=%2F')).url, '/static/a%20b.js?v=1&w=%2F');
  });

  describe('tester override header (enabled with a secret)', () => {
    it('the right secret forces the named backend, both ways', async () => {
      const forced = await served('/legacy-only', { headers: { 'x-cutover-backend': `candidate;secret=${SECRET}` } });
      assert.equal(forced.backend, 'candidate');
      const back = await served('/static/x.js', { headers: { 'x-cutover-backend': `legacy;secret=${SECRET}` } });
      assert.equal(back.backend, 'legacy');
    });

    it('a wrong or missing secret is ignored', async () => {
      for (const value of ['candidate;secret=wrong-secret-42', 'candidate;secret=', 'candidate', `candidate;secret=${SECRET}x`, `nobody;secret=${SECRET}`]) {
        const res = await served('/legacy-only', { headers: { 'x-cutover-backend': value } });
        assert.equal(res.backend, 'legacy', `"${value}" must not switch backends`);
      }
    });

    it('the override header is stripped before forwarding, whether it worked or not', async () => {
      const before = candidate!.seen.length + legacy!.seen.length;
      await served('/legacy-only', { headers: { 'x-cutover-backend': `candidate;secret=${SECRET}` } });
      await served('/legacy-only', { headers: { 'x-cutover-backend': 'candidate;secret=nope-nope-nope' } });
      const seen = [...candidate!.seen, ...legacy!.seen].slice(-2);
      assert.equal(candidate!.seen.length + legacy!.seen.length, before + 2);
      for (const s of seen) assert.equal(s.headers['x-cutover-backend'], undefined, JSON.stringify(s.headers));
    });
  });
});

/** Answers with one byte naming the backend, so 30,000 requests stay cheap. */
const tiny =
  (letter: string): Handler =>
  (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-length': '1' });
      res.end(letter);
    });
  };

/** Which side served a request: the one-byte backends answer C or L. */
const servedSide = async (url: string, headers: Record<string, string>, dispatcher: Agent | Pool): Promise<'legacy' | 'candidate'> => {
  const res = await request(url, { headers, dispatcher });
  const body = await res.body.text();
  assert.equal(res.statusCode, 200, body);
  return body === 'C' ? 'candidate' : 'legacy';
};

/** One-byte legacy and candidate backends behind a `cutover run` process with `config` (backends filled in). */
const startOneByteCutover = async (config: (dir: TempDir) => Record<string, unknown>) => {
  const legacy = await startBackend('legacy', { handler: tiny('L') });
  const candidate = await startBackend('candidate', { handler: tiny('C') });
  const dir = tempDir();
  const cutover = await startCutoverProcess({ dir, config: { backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } }, ...config(dir) } });
  return { legacy, candidate, dir, cutover };
};

describe('canary stickiness', () => {
  let legacy: Backend | undefined;
  let candidate: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  let client: Client | undefined;

  before(async () => {
    ({ legacy, candidate, dir, cutover } = await startOneByteCutover(() => ({
      routes: [
        { id: 'by-header', match: { path: '/c/header' }, mode: 'canary', percent: 10, stickiness: 'header:X-User' },
        { id: 'by-cookie', match: { path: '/c/cookie' }, mode: 'canary', percent: 50, stickiness: 'cookie:uid' },
        { id: 'by-query', match: { path: '/c/query' }, mode: 'canary', percent: 50, stickiness: 'query:u' },
        { id: 'by-ip', match: { path: '/c/ip' }, mode: 'canary', percent: 50, stickiness: 'ip' },
        { id: 'by-random', match: { path: '/c/random' }, mode: 'canary', percent: 50, stickiness: 'random' },
      ],
    })));
    client = createClient();
  });

  after(async () => {
    await client?.close();
    await cutover?.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  const side = (path: string, headers: Record<string, string> = {}, dispatcher?: Agent | Pool) => servedSide(cutover!.proxyUrl + path, headers, dispatcher ?? client!.agent);

  const setPercent = async (route: string, percent: number) => {
    const res = await client!.send(`${cutover!.adminUrl}/api/v1/routes/${route}`, {
      method: 'PUT' as never,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'canary', percent }),
    });
    assert.equal(res.status, 200, res.text);
  };

  it('10,000 header keys through the proxy: split within ±1 point of 10/25/50 %, and monotone', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    const pool = new Pool(cutover!.proxyUrl, { connections: 8, pipelining: 8 });
    try {
      const sets = new Map<number, Set<string>>();
      const t0 = performance.now();
      for (const percent of [10, 25, 50]) {
        if (percent !== 10) await setPercent('by-header', percent);
        const inCandidate = new Set<string>();
        let next = 0;
        await Promise.all(
          Array.from({ length: 64 }, async () => {
            while (next < keys.length) {
              const key = keys[next++]!;
              if ((await side('/c/header', { 'x-user': key }, pool)) === 'candidate') inCandidate.add(key);
            }
          }),
        );
        // The proxy agrees with the documented hash, key by key.
        const expected = keys.filter((k) => stickyBucket('by-header', k) < percent * 100).length;
        assert.equal(inCandidate.size, expected);
        const observed = (inCandidate.size / keys.length) * 100;
        console.log(`# canary ${percent}%: observed ${observed.toFixed(2)}% of 10,000 keys on the candidate`);
        assert.ok(Math.abs(observed - percent) <= 1, `observed ${observed}% for target ${percent}%`);
        sets.set(percent, inCandidate);
      }
      console.log(`# 30,000 canary requests in ${Math.round(performance.now() - t0)} ms`);
      for (const key of sets.get(10)!) assert.ok(sets.get(25)!.has(key), `${key} left the canary going from 10% to 25%`);
      for (const key of sets.get(25)!) assert.ok(sets.get(50)!.has(key), `${key} left the canary going from 25% to 50%`);
    } finally {
      await pool.close();
    }
  });

  it('header stickiness: a key always lands on the same side', async () => {
    for (let i = 0; i < 20; i++) {
      const key = `repeat-${i}`;
      const want = stickyBucket('by-header', key) < 5000 ? 'candidate' : 'legacy';
      for (let r = 0; r < 3; r++) assert.equal(await side('/c/header', { 'x-user': key }), want, key);
    }
  });

  it('cookie stickiness reads the named cookie among others', async () => {
    const sides = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const uid = `u${i}`;
      const want = stickyBucket('by-cookie', uid) < 5000 ? 'candidate' : 'legacy';
      sides.add(want);
      assert.equal(await side('/c/cookie', { cookie: `theme=dark; uid=${uid}; other=1` }), want, uid);
      assert.equal(await side('/c/cookie', { cookie: `uid=${uid}` }), want, uid);
    }
    assert.equal(sides.size, 2, 'the keys should spread over both sides at 50%');
  });

  it('query stickiness reads the named parameter (URL-decoded)', async () => {
    const sides = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const u = `q user ${i}`;
      const want = stickyBucket('by-query', u) < 5000 ? 'candidate' : 'legacy';
      sides.add(want);
      assert.equal(await side(`/c/query?a=1&u=${encodeURIComponent(u)}&z=2`), want, u);
      assert.equal(await side(`/c/query?u=${encodeURIComponent(u).replace(/%20/g, '+')}`), want, u);
    }
    assert.equal(sides.size, 2);
  });

  /** One keep-alive client per source address 127.0.0.N (Linux routes all of 127/8 to loopback). */
  const fromAddress = async <T>(n: number, fn: (agent: Agent) => Promise<T>): Promise<T> => {
    const agent = new Agent({ localAddress: `127.0.0.${n}` } as Agent.Options);
    try {
      return await fn(agent);
    } finally {
      await agent.close();
    }
  };

  it('ip stickiness: each client address stays on its side', async () => {
    const sides = new Set<string>();
    for (let n = 2; n < 42; n++) {
      const want = stickyBucket('by-ip', `127.0.0.${n}`) < 5000 ? 'candidate' : 'legacy';
      sides.add(want);
      await fromAddress(n, async (agent) => {
        for (let r = 0; r < 3; r++) assert.equal(await side('/c/ip', {}, agent), want, `127.0.0.${n}`);
      });
    }
    assert.equal(sides.size, 2);
  });

  it('requests without the key fall back to the client IP', async () => {
    for (const [route, path] of [
      ['by-header', '/c/header'],
      ['by-cookie', '/c/cookie'],
      ['by-query', '/c/query?other=1'],
    ] as const) {
      await setPercent(route, 50);
      const sides = new Set<string>();
      for (let n = 2; n < 32; n++) {
        const want = stickyBucket(route, `127.0.0.${n}`) < 5000 ? 'candidate' : 'legacy';
        sides.add(want);
        await fromAddress(n, async (agent) => {
          for (let r = 0; r < 2; r++) assert.equal(await side(path, {}, agent), want, `${route} from 127.0.0.${n}`);
          // A key that is present but empty is no key either.
          if (route === 'by-header') assert.equal(await side(path, { 'x-user': '' }, agent), want, `empty header from 127.0.0.${n}`);
        });
      }
      assert.equal(sides.size, 2, `${route}: keyless clients should spread over both sides by IP`);
    }
  });

  it('random stickiness splits requests, not clients, near the percent', async () => {
    let candidates = 0;
    const n = 600;
    for (let i = 0; i < n; i++) if ((await side('/c/random')) === 'candidate') candidates++;
    // Binomial(600, 0.5): ±15 points is over 7 standard deviations.
    assert.ok(candidates > n * 0.35 && candidates < n * 0.65, `${candidates}/${n} on the candidate at 50%`);
  });
});

describe('client address behind trusted proxies (trustedProxies)', () => {
  let legacy: Backend | undefined;
  let candidate: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  const agents = new Map<number, Agent>();

  before(async () => {
    ({ legacy, candidate, dir, cutover } = await startOneByteCutover((d) => ({
      // 127.0.0.2 is the load balancer in front; 127.0.0.3 a second proxy hop before it.
      trustedProxies: ['127.0.0.2', '127.0.0.3/32'],
      telemetry: { accessLog: 'full', accessLogFile: join(d.path, 'access.log') },
      routes: [
        { id: 'by-ip', match: { path: '/c/ip' }, mode: 'canary', percent: 50, stickiness: 'ip' },
        { id: 'by-header', match: { path: '/c/header' }, mode: 'canary', percent: 50, stickiness: 'header:X-User' },
      ],
    })));
  });

  after(async () => {
    for (const a of agents.values()) await a.close();
    await cutover?.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  /** The side that served a request sent from 127.0.0.N with these headers. */
  const sideFrom = (n: number, path: string, headers: Record<string, string> = {}) => {
    let agent = agents.get(n);
    if (agent === undefined) agents.set(n, (agent = new Agent({ localAddress: `127.0.0.${n}` } as Agent.Options)));
    return servedSide(cutover!.proxyUrl + path, headers, agent);
  };
  const sideOf = (route: string, key: string) => (stickyBucket(route, key) < 5000 ? 'candidate' : 'legacy');

  it('ip stickiness keys on the forwarded client, not on the balancer', async () => {
    const sides = new Set<string>();
    for (let i = 1; i <= 30; i++) {
      const client = `198.51.100.${i}`;
      const want = sideOf('by-ip', client);
      sides.add(want);
      for (let r = 0; r < 2; r++) assert.equal(await sideFrom(2, '/c/ip', { 'x-forwarded-for': client }), want, client);
    }
    assert.equal(sides.size, 2, 'clients behind one balancer spread over both sides');
  });

  it('reads X-Forwarded-For from the right: trusted hops are skipped, what the client wrote is not believed', async () => {
    for (let i = 1; i <= 20; i++) {
      const client = `203.0.113.${i}`;
      const want = sideOf('by-ip', client);
      assert.equal(await sideFrom(2, '/c/ip', { 'x-forwarded-for': `${client}, 127.0.0.3` }), want, `${client} through two proxies`);
      assert.equal(await sideFrom(2, '/c/ip', { 'x-forwarded-for': `10.9.9.9, ${client}` }), want, `${client} with a spoofed entry on the left`);
    }
  });

  it('ignores X-Forwarded-For from an untrusted peer, and stops at an entry that is not an address', async () => {
    for (let n = 10; n < 30; n++) {
      assert.equal(await sideFrom(n, '/c/ip', { 'x-forwarded-for': '198.51.100.1' }), sideOf('by-ip', `127.0.0.${n}`), `untrusted 127.0.0.${n}`);
    }
    assert.equal(await sideFrom(2, '/c/ip', { 'x-forwarded-for': 'unknown' }), sideOf('by-ip', '127.0.0.2'));
    assert.equal(await sideFrom(2, '/c/ip', { 'x-forwarded-for': '198.51.100.77, garbage, 127.0.0.3' }), sideOf('by-ip', '127.0.0.3'));
    assert.equal(await sideFrom(2, '/c/ip'), sideOf('by-ip', '127.0.0.2'), 'no header: the peer itself');
  });

  it('requests without their stickiness key fall back to the forwarded client; the access log names it', async () => {
    const sides = new Set<string>();
    for (let i = 1; i <= 30; i++) {
      const client = `192.0.2.${i}`;
      const want = sideOf('by-header', client);
      sides.add(want);
      assert.equal(await sideFrom(2, '/c/header', { 'x-forwarded-for': client }), want, client);
    }
    assert.equal(sides.size, 2);
    const logged = async () => {
      const text = existsSync(join(dir!.path, 'access.log')) ? readFileSync(join(dir!.path, 'access.log'), 'utf8') : '';
      return text.split('\n').filter((l) => l.includes('"/c/header"')).map((l) => JSON.parse(l) as { remoteAddress?: string });
    };
    const deadline = Date.now() + 10_000;
    while ((await logged()).length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      (await logged()).map((l) => l.remoteAddress),
      Array.from({ length: 30 }, (_, i) => `192.0.2.${i + 1}`),
    );
  });
});

describe('tester override is off by default', () => {
  let legacy: Backend | undefined;
  let candidate: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  let client: Client | undefined;

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    dir = tempDir();
    cutover = await startCutoverProcess({ dir, config: { backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } } } });
    client = createClient();
  });

  after(async () => {
    await client?.close();
    await cutover?.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  it('without override.secret in the config the header does nothing', async () => {
    for (const value of ['candidate;secret=anything-at-all', 'candidate']) {
      const res = await client!.send(`${cutover!.proxyUrl}/x`, { headers: { 'x-cutover-backend': value } });
      assert.equal(res.json<{ backend: string }>().backend, 'legacy');
    }
    assert.equal(candidate!.seen.length, 0);
  });
});
