/**
 * `cutover rollout …` and `cutover audit`: rollout control and the audit
 * ledger, through the admin API.
 */
import type { Command } from 'commander';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import type { AdminCall } from '../admin-client.ts';
import { renderTable } from '../table.ts';

/** The parts of the API's rollout view the CLI prints. */
interface RolloutView {
  key: string;
  routes: string[];
  status: string;
  step: number;
  steps: string[];
  stepLabel: string;
  stepStartedAt: number | null;
  reason: string | null;
  route: { mode: string; percent: number } | null;
  consecutiveFailures: number;
  failureThreshold: number;
  nextEvaluationAt: number | null;
  lastEvaluation: {
    at: number;
    outcome: string;
    decision: string;
    reason: string;
    samples: { legacy: number; candidate: number; compared: number };
    results: Array<{ gate: string; outcome: string; reason: string }>;
  } | null;
}

interface AuditEntry {
  id?: number;
  time: number;
  subject: string;
  action: string;
  actor: string;
  from?: unknown;
  to?: unknown;
  evidence?: unknown;
}

function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function routeText(route: RolloutView['route']): string {
  if (route === null) return 'config';
  return route.mode === 'canary' ? `canary ${route.percent}%` : route.mode;
}

function describeRollout(r: RolloutView): string {
  const lines = [
    `${r.key}: ${r.status.toUpperCase()} at step ${r.step + 1}/${r.steps.length} (${r.stepLabel}), routes ${r.routes.join(', ')} → ${routeText(r.route)}`,
    // The index is what `cutover rollout step` and --from-step take; the n/total form matches the audit reasons.
    `  steps by index: ${r.steps.map((s, i) => (i === r.step ? `[${i}: ${s}]` : `${i}: ${s}`)).join('  ')}`,
    `  step started ${ago(r.stepStartedAt)}; failures ${r.consecutiveFailures}/${r.failureThreshold}${r.nextEvaluationAt ? `; next evaluation in ${Math.max(0, Math.round((r.nextEvaluationAt - Date.now()) / 1000))}s` : ''}`,
  ];
  if (r.reason) lines.push(`  reason: ${r.reason}`);
  const e = r.lastEvaluation;
  if (e) {
    lines.push(`  last evaluation ${ago(e.at)}: ${e.outcome} → ${e.decision} (legacy ${e.samples.legacy}, candidate ${e.samples.candidate}, compared ${e.samples.compared})`);
    for (const g of e.results) lines.push(`    ${g.gate.padEnd(9)} ${g.outcome.padEnd(12)} ${g.reason}`);
  }
  return lines.join('\n');
}

function parseStepIndex(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new CutoverError(ErrorCodes.INPUT_INVALID, `"${text}" is not a step index`, { hint: 'steps are 0-based; see `cutover rollout status KEY`' });
  return n;
}

/**
 * @example
 * registerRolloutCommands(program, api);
 * // cutover rollout status            table of every rollout
 * // cutover rollout promote wallet --note "looked at the diffs"
 * // cutover audit wallet --since 1h --limit 20
 */
export function registerRolloutCommands(program: Command, api: () => AdminCall): void {
  const rollout = program.command('rollout').description('Drive rollouts: status, start, pause, resume, promote, abort, step');
  const path = (key: string, tail = '') => `/api/v1/rollouts/${encodeURIComponent(key)}${tail}`;
  const print = (r: RolloutView, json: boolean | undefined) =>
    process.stdout.write(json ? `${JSON.stringify(r, null, 2)}\n` : `${describeRollout(r)}\n`);

  rollout
    .command('status')
    .description('Every rollout as a table, or one in detail with its last gate evaluation')
    .argument('[key]', 'rollout (plan key: route id or component)')
    .option('--json', 'print JSON')
    .action(async (key: string | undefined, flags: { json?: boolean }) => {
      if (key !== undefined) {
        const out = await api()<{ rollout: RolloutView }>('GET', path(key));
        print(out.rollout, flags.json);
        return;
      }
      const out = await api()<{ rollouts: RolloutView[] }>('GET', '/api/v1/rollouts');
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(out.rollouts, null, 2)}\n`);
        return;
      }
      if (out.rollouts.length === 0) {
        process.stdout.write('no rollouts: add a plan under `plans:` in cutover.yaml\n');
        return;
      }
      const table = renderTable(
        ['ROLLOUT', 'STATUS', 'STEP', 'ROUTES', 'SINCE', 'LAST EVALUATION'],
        out.rollouts.map((r) => [
          r.key,
          r.status,
          `${r.step + 1}/${r.steps.length} ${r.stepLabel}`,
          `${r.routes.join(',')} → ${routeText(r.route)}`,
          ago(r.stepStartedAt),
          r.lastEvaluation ? `${r.lastEvaluation.outcome} → ${r.lastEvaluation.decision}` : '-',
        ]),
      );
      process.stdout.write(`${table}\n`);
    });

  rollout
    .command('start')
    .description('Start a rollout with the plan from the current config (idle, rolled back or completed)')
    .argument('<key>', 'rollout')
    .option('--from-step <n>', '0-based step to start at')
    .option('--note <text>', 'kept in the audit entry')
    .option('--json', 'print JSON')
    .action(async (key: string, flags: { fromStep?: string; note?: string; json?: boolean }) => {
      const body = { ...(flags.fromStep !== undefined ? { fromStep: parseStepIndex(flags.fromStep) } : {}), ...(flags.note ? { note: flags.note } : {}) };
      print((await api()<{ rollout: RolloutView }>('POST', path(key, '/start'), body)).rollout, flags.json);
    });

  const simple: Array<[string, string]> = [
    ['pause', 'Freeze at the current step; traffic stays as it is'],
    ['resume', 'Run a paused rollout again at the same step (the step clock restarts)'],
    ['promote', 'Move to the next step now, whatever the gates say'],
    ['abort', 'Roll back to legacy now'],
  ];
  for (const [action, description] of simple) {
    rollout
      .command(action)
      .description(description)
      .argument('<key>', 'rollout')
      .option('--note <text>', 'kept in the audit entry')
      .option('--json', 'print JSON')
      .action(async (key: string, flags: { note?: string; json?: boolean }) => {
        print((await api()<{ rollout: RolloutView }>('POST', path(key, `/${action}`), flags.note ? { note: flags.note } : {})).rollout, flags.json);
      });
  }

  rollout
    .command('step')
    .description('Jump a running or paused rollout to step N (0-based)')
    .argument('<key>', 'rollout')
    .argument('<n>', '0-based step index')
    .option('--note <text>', 'kept in the audit entry')
    .option('--json', 'print JSON')
    .action(async (key: string, n: string, flags: { note?: string; json?: boolean }) => {
      const body = { step: parseStepIndex(n), ...(flags.note ? { note: flags.note } : {}) };
      print((await api()<{ rollout: RolloutView }>('PUT', path(key, '/step'), body)).rollout, flags.json);
    });

  program
    .command('audit')
    .description('The audit ledger, newest first: rollout transitions with gate evidence, routing changes, kill switch')
    .argument('[subject]', 'rollout key, route id, or * for global actions')
    .option('--since <when>', 'duration back from now (1h), epoch ms or ISO date')
    .option('--limit <n>', 'entries (default 50)', '50')
    .option('--json', 'print JSON')
    .action(async (subject: string | undefined, flags: { since?: string; limit: string; json?: boolean }) => {
      const q = new URLSearchParams({ limit: flags.limit });
      if (subject !== undefined) q.set('subject', subject);
      if (flags.since !== undefined) q.set('since', flags.since);
      const out = await api()<{ entries: AuditEntry[] }>('GET', `/api/v1/audit?${q}`);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(out.entries, null, 2)}\n`);
        return;
      }
      if (out.entries.length === 0) {
        process.stdout.write('no audit entries\n');
        return;
      }
      const summary = (v: unknown): string => {
        const s = v as { status?: string; stepLabel?: string; mode?: string; percent?: number } | undefined;
        if (!s || typeof s !== 'object') return '-';
        if (s.status !== undefined) return `${s.status}${s.stepLabel ? ` (${s.stepLabel})` : ''}`;
        if (s.mode !== undefined) return s.mode === 'canary' ? `canary ${s.percent}%` : s.mode;
        return '-';
      };
      const reason = (e: AuditEntry) => String((e.evidence as { reason?: string } | undefined)?.reason ?? '');
      const table = renderTable(
        ['TIME', 'SUBJECT', 'ACTION', 'ACTOR', 'FROM', 'TO', 'REASON'],
        out.entries.map((e) => [new Date(e.time).toISOString(), e.subject, e.action, e.actor, summary(e.from), summary(e.to), reason(e).slice(0, 120)]),
      );
      process.stdout.write(`${table}\n`);
    });
}
