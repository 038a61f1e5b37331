/**
 * A gentle, steady stream of shop traffic through the demo proxy, so status,
 * comparisons and metrics have something to show.
 *
 *   ./node_modules/.bin/node examples/demo/traffic.ts [--proxy http://127.0.0.1:8080] [--rate 20] [--duration 60s] [--users 200]
 *
 * Every few seconds it prints how many answers came from legacy and from the
 * rewrite per route (read from the x-demo-backend header).
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/core/duration.ts';

interface Options {
  proxy: string;
  rate: number;
  durationMs: number;
  users: number;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      proxy: { type: 'string', default: 'http://127.0.0.1:8080' },
      rate: { type: 'string', default: '20' },
      duration: { type: 'string', default: '0' },
      users: { type: 'string', default: '200' },
    },
  });
  const rate = Number(values.rate);
  const users = Number(values.users);
  if (!(rate > 0 && rate <= 10_000)) throw new Error(`--rate ${values.rate}: give requests per second, 1 to 10000`);
  if (!(Number.isInteger(users) && users > 0)) throw new Error(`--users ${values.users}: give a positive whole number`);
  return { proxy: values.proxy.replace(/\/+$/, ''), rate, durationMs: parseDuration(values.duration), users };
}

type Shot = { route: string; method: string; path: string; headers?: Record<string, string>; body?: string };

function nextShot(users: number): Shot {
  const user = `user-${1 + Math.floor(Math.random() * users)}`;
  const r = Math.random();
  if (r < 0.3) return { route: 'products', method: 'GET', path: '/api/products' };
  if (r < 0.55) return { route: 'products', method: 'GET', path: `/api/products/${1 + Math.floor(Math.random() * 6)}` };
  if (r < 0.8) return { route: 'orders', method: 'GET', path: `/api/orders?user=${user}`, headers: { 'x-user-id': user } };
  if (r < 0.9) {
    const body = JSON.stringify({ user, items: [{ product_id: 1 + Math.floor(Math.random() * 5), qty: 1 + Math.floor(Math.random() * 3) }] });
    return { route: 'orders', method: 'POST', path: '/api/orders', headers: { 'x-user-id': user, 'content-type': 'application/json' }, body };
  }
  return { route: 'health', method: 'GET', path: '/api/health' };
}

export async function runTraffic(opts: Options, signal: AbortSignal): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const interval = 1_000 / opts.rate;
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  let report = started + 5_000;
  const print = () => {
    const rows = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}=${n}`);
    process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${rows.join('  ')}\n`);
  };
  while (!signal.aborted && (opts.durationMs === 0 || Date.now() - started < opts.durationMs)) {
    const shot = nextShot(opts.users);
    const p = fetch(`${opts.proxy}${shot.path}`, { method: shot.method, headers: shot.headers, body: shot.body, signal: AbortSignal.timeout(10_000) })
      .then(async (res) => {
        await res.arrayBuffer();
        count(`${shot.route}:${res.headers.get('x-demo-backend') ?? res.status}`);
      })
      .catch(() => {
        count(`${shot.route}:error`);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (Date.now() >= report) {
      print();
      report += 5_000;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  await Promise.all(inFlight);
  print();
  return counts;
}

if (import.meta.main) {
  try {
    const opts = options(process.argv.slice(2));
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.stdout.write(`sending ~${opts.rate} requests/s to ${opts.proxy}${opts.durationMs ? ` for ${opts.durationMs / 1000}s` : ' until Ctrl-C'}\n`);
    await runTraffic(opts, stop.signal);
  } catch (err) {
    process.stderr.write(`traffic: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
