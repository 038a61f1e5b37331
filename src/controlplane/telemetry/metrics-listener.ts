/**
 * `admin.metricsListen`: /metrics on a listener of its own, without the admin
 * token, so a Prometheus can scrape from the network while the admin API
 * (which can move all traffic) stays on loopback. It serves nothing else.
 */
import { createServer, type Server } from 'node:http';
import { listenOn } from '../../dataplane/listen-address.ts';
import type { TelemetryMetrics } from './prometheus-metrics.ts';

export interface MetricsListener {
  readonly server: Server;
  listen(address: string): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/**
 * @example
 * const l = createMetricsListener(metrics);
 * await l.listen('0.0.0.0:9464');
 */
export function createMetricsListener(metrics: TelemetryMetrics, onError?: (err: unknown) => void): MetricsListener {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('only /metrics is served here\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    metrics.render().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        onError?.(err);
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n');
      },
    );
  });
  return {
    server,
    listen: (address) => listenOn(server, address),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
