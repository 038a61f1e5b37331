/**
 * Rollout notifications to webhooks. Delivery runs in the background with
 * bounded retries, so a slow or failing receiver can never hold up a
 * transition, and least of all a rollback.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import type { NotifyLevel } from '../../rollout/index.ts';

export interface WebhookConfig {
  url: string;
  format: 'json' | 'slack';
  headers: Record<string, string>;
}

export interface RolloutNotification {
  subject: string;
  level: NotifyLevel;
  /** Transition name: start, advance, rollback, kill-switch-on, … */
  event: string;
  message: string;
  time: number;
  actor?: string;
  /** Where the rollout is after the transition. */
  state?: unknown;
}

export interface NotifierOptions {
  webhooks: () => readonly WebhookConfig[];
  logger: Logger;
  /** Attempts per webhook and notification, first try included. */
  attempts?: number;
  /** First retry delay; doubles each time, with jitter, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per attempt. */
  timeoutMs?: number;
}

export interface Notifier {
  /** Queues delivery and returns at once. */
  send(notification: RolloutNotification): void;
  /** Deliveries still in flight or waiting to retry. */
  pending(): number;
  /** Waits up to `graceMs` for deliveries in flight, then drops the rest. */
  close(graceMs?: number): Promise<void>;
}

const LEVEL_MARK: Record<NotifyLevel, string> = { info: 'ℹ️', warning: '⚠️', critical: '🚨' };

/** The body a webhook receives: the notification as JSON, or `{ text }` for Slack incoming webhooks. */
export function webhookBody(format: WebhookConfig['format'], n: RolloutNotification): string {
  if (format === 'slack') return JSON.stringify({ text: `${LEVEL_MARK[n.level]} cutover: ${n.message}` });
  return JSON.stringify({ source: 'cutover', ...n });
}

/**
 * @example
 * const notifier = createWebhookNotifier({ webhooks: () => config.notifications.webhooks, logger });
 * notifier.send({ subject: 'wallet', level: 'critical', event: 'rollback', message: 'rolled back', time: Date.now() });
 */
export function createWebhookNotifier(options: NotifierOptions): Notifier {
  const attempts = Math.max(1, options.attempts ?? 5);
  const base = options.baseDelayMs ?? 250;
  const cap = options.maxDelayMs ?? 10_000;
  const timeout = options.timeoutMs ?? 5_000;
  const inFlight = new Set<Promise<void>>();
  const controller = new AbortController();
  let closed = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      controller.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });

  const deliver = async (hook: WebhookConfig, body: string, n: RolloutNotification): Promise<void> => {
    let last = '';
    for (let attempt = 1; attempt <= attempts && !controller.signal.aborted; attempt++) {
      try {
        const res = await request(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'cutover-notifier', ...hook.headers },
          body,
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(timeout)]),
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) return;
        last = `HTTP ${res.statusCode}`;
        // A 4xx other than 408/429 will not get better by asking again.
        if (res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 408 && res.statusCode !== 429) break;
      } catch (err) {
        last = (err as Error).message;
      }
      if (attempt < attempts) {
        const delay = Math.min(cap, base * 2 ** (attempt - 1));
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
    if (!controller.signal.aborted) {
      options.logger.warn({ webhook: redactUrl(hook.url), subject: n.subject, event: n.event, error: last }, 'webhook notification not delivered; giving up');
    }
  };

  return {
    send(n) {
      if (closed) return;
      for (const hook of options.webhooks()) {
        const p = deliver(hook, webhookBody(hook.format, n), n).catch((err: unknown) => options.logger.warn({ err }, 'webhook delivery failed'));
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
    },
    pending: () => inFlight.size,
    async close(graceMs = 2_000) {
      closed = true;
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
      }
      controller.abort();
    },
  };
}

/** Webhook URLs often carry their secret in the path (Slack); logs get the origin only. */
function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}
