import type { Command } from 'commander';
import { MODES, type Mode } from '../../config/modes.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import type { RouteDescription } from '../../dataplane/routing-snapshot.ts';
import type { AdminCall } from '../admin-client.ts';
import { renderTable } from '../table.ts';

interface StatusBody {
  version: string;
  killSwitch: { on: boolean; source?: string };
  backends: Record<string, { url: string; healthy?: boolean; lastProbeError?: string; consecutiveFailures?: number }>;
  routes: RouteDescription[];
}

function describeMode(r: RouteDescription): string {
  return r.mode === 'canary' ? `canary ${r.percent}%` : r.mode;
}

export function registerRoutingCommands(program: Command, api: () => AdminCall): void {
  program
    .command('status')
    .description('Routes, their modes and percents, backends and the kill switch')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const status = await api()<StatusBody>('GET', '/api/v1/status');
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      const lines = [
        `cutover ${status.version}   kill switch: ${status.killSwitch.on ? `ON (${status.killSwitch.source})` : 'off'}`,
        ...Object.entries(status.backends).map(
          ([name, b]) =>
            `  ${name.padEnd(9)} ${b.url}  ${b.healthy === undefined ? 'probing' : b.healthy ? 'healthy' : `DOWN (${b.lastProbeError ?? 'probe failed'})`}${b.consecutiveFailures ? `, ${b.consecutiveFailures} failed requests in a row` : ''}`,
        ),
        '',
        renderTable(
          ['ROUTE', 'MATCH', 'MODE', 'STICKINESS', 'FALLBACK', 'SOURCE'],
          status.routes.map((r) => [r.id, `${r.methods ? `${r.methods.join(',')} ` : ''}${r.template}`, describeMode(r), r.stickiness, r.fallback, r.overridden ? 'runtime' : 'config']),
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  program
    .command('set')
    .description(`Set a route's mode: ${MODES.join(' | ')}; canary takes a percent`)
    .argument('<route>', 'route id (see cutover status)')
    .argument('<mode>', MODES.join('|'))
    .argument('[percent]', 'canary percent, 0-100')
    .option('--json', 'print JSON')
    .action(async (route: string, mode: string, percent: string | undefined, flags: { json?: boolean }) => {
      if (!MODES.includes(mode as Mode)) {
        throw new CutoverError(ErrorCodes.INPUT_INVALID, `unknown mode "${mode}"`, { hint: `use one of ${MODES.join(', ')}` });
      }
      const p = percent === undefined ? undefined : Number(percent.replace(/%$/, ''));
      if (p !== undefined && !Number.isFinite(p)) throw new CutoverError(ErrorCodes.INPUT_INVALID, `"${percent}" is not a percent`, { hint: 'e.g. 10 or 12.5' });
      const out = await api()<{ route: RouteDescription }>('PUT', `/api/v1/routes/${encodeURIComponent(route)}`, { mode, ...(p !== undefined ? { percent: p } : {}) });
      if (flags.json) process.stdout.write(`${JSON.stringify(out.route, null, 2)}\n`);
      else process.stdout.write(`${out.route.id}: ${describeMode(out.route)}\n`);
    });

  program
    .command('rollback')
    .description('Send one route, or every route, back to legacy at once')
    .argument('[route]', 'route id; omit (or --all) for every route')
    .option('--all', 'every route')
    .option('--json', 'print JSON')
    .action(async (route: string | undefined, flags: { all?: boolean; json?: boolean }) => {
      if (route !== undefined && flags.all) throw new CutoverError(ErrorCodes.INPUT_INVALID, 'give a route or --all, not both');
      const out = await api()<{ rolledBack: string[]; tookMs: number }>('POST', '/api/v1/rollback', route === undefined ? { all: true } : { route });
      if (flags.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else process.stdout.write(`rolled back to legacy: ${out.rolledBack.join(', ')} (${out.tookMs} ms)\n`);
    });

  program
    .command('kill-switch')
    .description('Global kill switch: every route serves legacy while on')
    .argument('<state>', 'on | off')
    .action(async (state: string) => {
      if (state !== 'on' && state !== 'off') throw new CutoverError(ErrorCodes.INPUT_INVALID, `"${state}" is not on or off`);
      await api()('PUT', '/api/v1/kill-switch', { on: state === 'on' });
      process.stdout.write(`kill switch ${state}\n`);
    });
}
