/**
 * `npm start`: a complete cutover on one machine, with no config to write and
 * no network. It starts a legacy shop API and its rewrite in this process,
 * puts cutover in front of them with examples/demo/cutover.yaml, and prints
 * what to try. Ctrl-C stops everything.
 *
 * Ports (default base 8000): legacy 8001, rewrite 8002, proxy 8080, admin 9090.
 * CUTOVER_DEMO_PORT_BASE=18000 moves them to 18001, 18002, 18080 and 19090.
 */
import { createServer as createNetServer } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describeError } from '../../src/cli/exit-codes.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { isCutoverError } from '../../src/core/errors.ts';
import { defaultFeatures } from '../../src/controlplane/features.ts';
import { startCutover, type CutoverRuntime } from '../../src/controlplane/runtime.ts';
import { createLegacyApi } from './legacy-api.ts';
import { createRewriteApi } from './rewrite-api.ts';
import { createOrderTable } from './shop-data.ts';

export const CONFIG_FILE = fileURLToPath(new URL('./cutover.yaml', import.meta.url));
const HOST = '127.0.0.1';

export interface DemoPorts {
  legacy: number;
  rewrite: number;
  proxy: number;
  admin: number;
}

export function demoPorts(base: number): DemoPorts {
  return { legacy: base + 1, rewrite: base + 2, proxy: base + 80, admin: base + 1090 };
}

function portBase(): number {
  const raw = process.env.CUTOVER_DEMO_PORT_BASE;
  if (raw === undefined || raw === '') return 8000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n + 1090 > 65_535) {
    throw new DemoError(`CUTOVER_DEMO_PORT_BASE=${raw} is not usable: give a whole number between 1 and 64445 (the admin API listens on base + 1090)`);
  }
  return n;
}

class DemoError extends Error {}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: HOST, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

function busyMessage(busy: Array<[string, number]>, base: number): string {
  const list = busy.map(([what, port]) => `${port} (${what})`).join(', ');
  const other = base === 8000 ? 18000 : base + 100;
  const p = demoPorts(other);
  return [
    `port${busy.length === 1 ? '' : 's'} ${list} ${busy.length === 1 ? 'is' : 'are'} already in use on ${HOST}.`,
    `Stop what is using ${busy.length === 1 ? 'it' : 'them'}, or move the demo to other ports with CUTOVER_DEMO_PORT_BASE, e.g.`,
    `  CUTOVER_DEMO_PORT_BASE=${other} npm start     (legacy ${p.legacy}, rewrite ${p.rewrite}, proxy ${p.proxy}, admin ${p.admin})`,
  ].join('\n');
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections(); // ends open event streams too
  });
}

async function adminServes(port: number, path: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${HOST}:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

function hasCommand(name: string): boolean {
  return buildProgram().commands.some((c) => c.name() === name);
}

async function whatToTry(ports: DemoPorts, base: number): Promise<string> {
  const proxy = `http://${HOST}:${ports.proxy}`;
  const adminUrl = `http://${HOST}:${ports.admin}`;
  const cli = base === 8000 ? 'npx cutover' : `CUTOVER_ADMIN_URL=${adminUrl} npx cutover`;
  const lines = [
    '',
    'cutover demo is running: a legacy shop API and its rewrite, with cutover in front.',
    '',
    `  legacy  ${HOST}:${ports.legacy}    rewrite ${HOST}:${ports.rewrite}    proxy ${proxy}    admin ${adminUrl}`,
    '',
    'Routes (examples/demo/cutover.yaml):',
    '  products  /api/products/*  shadow      served by legacy, mirrored to the rewrite and compared',
    '  orders    /api/orders      canary 10%  sticky on the x-user-id header (no header: by client IP); reads compared',
    '  health    /api/health      candidate   served by the rewrite',
    '  default   everything else  legacy      e.g. the event stream /api/events',
    'Every answer carries x-demo-backend: legacy | rewrite. The rewrite has one real bug (a price',
    'rounding) and a missing field, next to differences the rules in cutover.yaml accept.',
    '',
    'Try:',
    `  curl -i ${proxy}/api/products/3`,
    `  curl -i ${proxy}/api/health`,
    `  for u in alice bob carol dave erin frank grace heidi ivan judy; do curl -s -o /dev/null -w "$u %header{x-demo-backend}\\n" -H "x-user-id: $u" ${proxy}/api/orders?user=$u; done`,
    `  curl -i -X POST -H 'content-type: application/json' -H 'x-user-id: alice' -d '{"user":"alice","items":[{"product_id":3,"qty":2}]}' ${proxy}/api/orders`,
    `  curl -N ${proxy}/api/events`,
    '',
    `  ${cli} status`,
  ];
  if (hasCommand('stats')) lines.push('  # legacy and the rewrite side by side: requests, error rates, latency', `  ${cli} stats`);
  if (hasCommand('diffs')) {
    lines.push(
      '  # after some traffic: what differed between legacy and the rewrite (products, and order reads),',
      '  # then one group in full (id from the first column)',
      `  ${cli} diffs`,
      `  ${cli} diffs samples GROUP`,
    );
  }
  lines.push(
    '',
    '  # half of the users on the rewrite (the 10% already there stay there)',
    `  ${cli} set orders canary 50`,
    '  # every route back to legacy at once; or the global switch (off to release)',
    `  ${cli} rollback --all`,
    `  ${cli} kill-switch on`,
    '',
    `  admin API:  ${adminUrl}/api/v1/openapi.json`,
  );
  if (await adminServes(ports.admin, '/metrics')) lines.push(`  metrics:    ${adminUrl}/metrics`);
  lines.push(
    '',
    'Some background traffic, in another terminal:',
    `  ./node_modules/.bin/node examples/demo/traffic.ts${base === 8000 ? '' : ` --proxy ${proxy}`}`,
    'Edit examples/demo/cutover.yaml while this runs: cutover reloads it, and keeps the last good routing if the file is bad.',
    'Ctrl-C stops the demo.',
    '',
  );
  return lines.join('\n');
}

export async function main(): Promise<number> {
  const base = portBase();
  const ports = demoPorts(base);
  const wanted: Array<[string, number]> = [
    ['legacy API', ports.legacy],
    ['rewrite API', ports.rewrite],
    ['cutover proxy', ports.proxy],
    ['cutover admin API', ports.admin],
  ];
  const busy: Array<[string, number]> = [];
  for (const [what, port] of wanted) if (!(await isFree(port))) busy.push([what, port]);
  if (busy.length > 0) throw new DemoError(busyMessage(busy, base));

  process.env.CUTOVER_DEMO_LISTEN = `${HOST}:${ports.proxy}`;
  process.env.CUTOVER_DEMO_ADMIN = `${HOST}:${ports.admin}`;
  process.env.CUTOVER_DEMO_LEGACY_URL = `http://${HOST}:${ports.legacy}`;
  process.env.CUTOVER_DEMO_REWRITE_URL = `http://${HOST}:${ports.rewrite}`;
  const config = loadConfigFile(CONFIG_FILE);

  const orders = createOrderTable();
  const legacy = createLegacyApi({ orders });
  const rewrite = createRewriteApi({ orders });
  const started: Server[] = [];
  let runtime: CutoverRuntime | undefined;
  const stopBackends = () => Promise.all(started.map(closeServer));
  try {
    await listen(legacy, ports.legacy);
    started.push(legacy);
    await listen(rewrite, ports.rewrite);
    started.push(rewrite);
    const logger = pino({ name: 'cutover', level: process.env.CUTOVER_LOG_LEVEL ?? 'warn' });
    runtime = await startCutover({ config, configPath: CONFIG_FILE, features: defaultFeatures, logger, handleSignals: false });
  } catch (err) {
    await stopBackends();
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE') {
      const port = e.port ?? wanted.find(([, p]) => e.message.includes(String(p)))?.[1];
      const what = wanted.find(([, p]) => p === port)?.[0] ?? 'a demo listener';
      throw new DemoError(busyMessage([[what, port ?? 0]], base));
    }
    throw err;
  }

  process.stdout.write(await whatToTry(ports, base));
  process.stdout.write(`ready: proxy ${HOST}:${runtime.proxyAddress.port}, admin ${HOST}:${runtime.adminAddress.port}\n`);

  const cutover = runtime;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stdout.write(`\n${signal} again: exiting without waiting\n`);
        process.exit(1);
      }
      stopping = true;
      process.stdout.write(`\n${signal}: stopping cutover (draining in-flight requests), then the demo APIs\n`);
      void (async () => {
        let code = 0;
        try {
          await cutover.close();
        } catch (err) {
          process.stderr.write(`cutover did not stop cleanly: ${(err as Error).message}\n`);
          code = 1;
        }
        await stopBackends();
        process.stdout.write('demo stopped\n');
        resolve(code);
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (err) {
    const text = err instanceof DemoError ? err.message : isCutoverError(err) ? describeError(err) : ((err as Error).stack ?? String(err));
    process.stderr.write(`cutover demo: ${text}\n`);
    process.exitCode = 1;
  }
}
