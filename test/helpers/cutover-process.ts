/**
 * Runs cutover the way a user does: `node bin/cutover.js run -c FILE` as a
 * child process, on free ports (listen and admin on port 0, read back from the
 * "cutover is serving" log line), with its own data dir. Also runs one-shot
 * CLI commands (`cutover set …`) as child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = join(REPO_ROOT, 'node_modules/.bin/node');
export const BIN = join(REPO_ROOT, 'bin/cutover.js');

export interface TempDir {
  readonly path: string;
  file(name: string, content: string): string;
  remove(): void;
}

export function tempDir(prefix = 'cutover-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file(name, content) {
      const p = join(path, name);
      writeFileSync(p, content);
      return p;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** A config object as YAML, with listen/admin on port 0 unless given. */
export function configYaml(config: Record<string, unknown>): string {
  const admin = (config.admin as Record<string, unknown> | undefined) ?? {};
  return stringify({ listen: '127.0.0.1:0', ...config, admin: { listen: '127.0.0.1:0', ...admin } });
}

export interface LogLine {
  msg?: string;
  level?: number;
  [key: string]: unknown;
}

export interface CutoverProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly proxyUrl: string;
  readonly proxyPort: number;
  readonly adminUrl: string;
  readonly configPath: string | undefined;
  readonly dataDir: string;
  /** Every JSON log line so far. */
  readonly logs: LogLine[];
  stderr(): string;
  /** Resolves with the first log line (past or future) matching. */
  waitForLog(pred: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. Safe to call twice. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** Written to a config file in `dir` (as YAML). */
  config?: Record<string, unknown>;
  /** Or a config file that already exists. */
  configPath?: string;
  /** Extra `run` arguments, e.g. ['--workers', '2']. */
  args?: string[];
  /** Where the config file and the data dir go. Created (and removed by the caller) when absent. */
  dir: TempDir;
  /** Data dir, defaults to `<dir>/data`. */
  dataDir?: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/**
 * Spawns `cutover run` and waits for it to serve. The caller must call
 * `stop()` (typically in `t.after`), even when the test fails.
 */
export async function startCutoverProcess(options: StartOptions): Promise<CutoverProcess> {
  const configPath = options.configPath ?? (options.config ? options.dir.file('cutover.yaml', configYaml(options.config)) : undefined);
  const dataDir = options.dataDir ?? join(options.dir.path, 'data');
  const args = [BIN, 'run', ...(configPath ? ['-c', configPath] : []), '--data-dir', dataDir, ...(options.args ?? [])];
  const child = spawn(NODE, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, CUTOVER_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        parsed = { msg: line };
      }
      logs.push(parsed);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.pred(parsed)) {
          waiters[i]!.resolve(parsed);
          waiters.splice(i, 1);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const found = logs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = waiters.findIndex((w) => w.resolve === done);
        if (i !== -1) waiters.splice(i, 1);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr:\n${stderr}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`));
      }, timeoutMs);
      const done = (l: LogLine) => {
        clearTimeout(timer);
        resolve(l);
      };
      waiters.push({ pred, resolve: done });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        const i = waiters.findIndex((w) => w.resolve === done);
        if (i !== -1) {
          waiters.splice(i, 1);
          reject(new Error(`cutover exited (code ${code}, signal ${signal}) before the expected log line; stderr:\n${stderr}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`));
        }
      });
    });
  };

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const stop = (graceMs = 5_000) =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    })());

  let ready: LogLine;
  try {
    ready = await waitForLog((l) => l.msg === 'cutover is serving', options.readyTimeoutMs ?? 15_000);
  } catch (err) {
    await stop(1_000);
    throw err;
  }
  const proxyPort = Number(String(ready.listen).split(':').pop());
  const adminPort = Number(String(ready.admin).split(':').pop());
  return {
    child,
    pid: child.pid!,
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    proxyPort,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    configPath,
    dataDir,
    logs,
    stderr: () => stderr,
    waitForLog,
    exited,
    stop,
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** Runs one CLI command (`cutover ARGS…`) to completion. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cutover ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** Reads VmRSS of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
