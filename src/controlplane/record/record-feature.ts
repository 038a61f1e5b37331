/**
 * `cutover record`: per-route recording of live traffic to NDJSON files.
 * Starting a recording adds the route to the data plane's recording map (so
 * only that route compiles a recording serve path); the data plane publishes
 * `recorded` events and this feature redacts them with the diff samples'
 * rules and per-installation key, encodes them and hands them to a rotating
 * buffered writer. Redaction and encoding run in a batch on a later turn of
 * the event loop, never inside the publish call on the request's path.
 */
import { resolve } from 'node:path';
import { redact } from '../../compare/index.ts';
import type { CutoverConfig } from '../../config/schema.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import { channels, type RecordedEvent } from '../../dataplane/events.ts';
import type { RecordSettings } from '../../dataplane/recording-tap.ts';
import { encodeBody, formatTrafficLine, recordableHeaders, type TrafficRecord } from '../../replay/traffic-format.ts';
import type { AdminRoute } from '../admin/admin-router.ts';
import { redactionKey } from '../comparison/comparison-feature.ts';
import type { Feature, FeatureContext, FeatureFactory } from '../feature.ts';
import { createRotatingWriter, type RotatingWriter } from './ndjson-rotating-writer.ts';
import { parseRate, parseRecordDuration, parseSize, recordStartBody, type RecordStartBody } from './record-request.ts';

export interface RecordingStatus {
  route: string;
  state: 'recording' | 'stopped';
  rate: number;
  out: string;
  withResponse: boolean;
  maxSize: number;
  startedAt: number;
  endsAt?: number;
  stoppedAt?: number;
  /** Requests written (or queued to be written). */
  requests: number;
  bytes: number;
  /** Requests recorded without their body because it was over the capture cap. */
  truncatedBodies: number;
  /** Requests lost because the disk fell behind. */
  dropped: number;
  files: string[];
  error?: string;
}

interface Session {
  route: string;
  settings: RecordSettings;
  out: string;
  maxSize: number;
  startedAt: number;
  endsAt?: number;
  stoppedAt?: number;
  timer?: NodeJS.Timeout;
  writer: RotatingWriter;
  queue: RecordedEvent[];
  truncatedBodies: number;
  queueDropped: number;
  stopping?: Promise<void>;
}

export interface RecordApi {
  start(body: RecordStartBody, actor: string): Promise<RecordingStatus>;
  stop(route: string, actor: string): Promise<RecordingStatus>;
  status(): RecordingStatus[];
}

/** Events waiting for the encoder, per session; past this the disk is not keeping up. */
const MAX_QUEUED = 10_000;
const FINISHED_KEPT = 20;

function captureLimitOf(config: CutoverConfig, route: string): number {
  const r = config.routes.find((x) => x.id === route);
  return r?.shadow?.captureLimit ?? config.defaults.shadow.captureLimit;
}

/**
 * @example
 * await startCutover({ config, features: [...defaultFeatures] }); // createRecordFeature is one of them
 * // POST /api/v1/record { "route": "checkout", "rate": "5%", "out": "/var/tmp/traffic.ndjson" }
 */
export const createRecordFeature: FeatureFactory = async (context: FeatureContext): Promise<Feature> => {
  const key = await redactionKey(context);
  const sessions = new Map<string, Session>();
  const finished: RecordingStatus[] = [];
  let encodeScheduled = false;

  const statusOf = (s: Session): RecordingStatus => {
    const w = s.writer.stats();
    const out: RecordingStatus = {
      route: s.route,
      state: s.stoppedAt === undefined ? 'recording' : 'stopped',
      rate: s.settings.rate,
      out: s.out,
      withResponse: s.settings.withResponse,
      maxSize: s.maxSize,
      startedAt: s.startedAt,
      requests: w.lines + s.queue.length,
      bytes: w.bytes,
      truncatedBodies: s.truncatedBodies,
      dropped: w.dropped + s.queueDropped,
      files: w.files,
    };
    if (s.endsAt !== undefined) out.endsAt = s.endsAt;
    if (s.stoppedAt !== undefined) out.stoppedAt = s.stoppedAt;
    if (w.error !== undefined) out.error = w.error;
    return out;
  };

  const toLine = (e: RecordedEvent): string => {
    const config = context.config();
    const options = { key, headers: config.results.redactHeaders, paths: config.results.redactPaths };
    const req = redact({ headers: recordableHeaders(e.headers), body: e.body }, options);
    const record: TrafficRecord = { time: e.time, route: e.route, method: e.method, url: e.url, headers: req.headers as TrafficRecord['headers'], bodyEncoding: 'utf8' };
    if (e.bodyTruncated) record.bodyTruncated = true;
    else if (req.body.byteLength > 0) Object.assign(record, encodeBody(req.body));
    if (e.response !== undefined) {
      const res = redact({ headers: recordableHeaders(e.response.headers), body: e.response.body }, options);
      record.response = { status: e.response.status, headers: res.headers as TrafficRecord['headers'], ...encodeBody(res.body) };
      if (e.response.truncated) record.response.bodyTruncated = true;
    }
    return formatTrafficLine(record);
  };

  const encodePending = (): void => {
    encodeScheduled = false;
    for (const s of sessions.values()) {
      const batch = s.queue;
      s.queue = [];
      for (const e of batch) {
        try {
          s.writer.write(toLine(e));
        } catch (err) {
          context.logger.warn({ err, route: s.route }, 'a recorded request could not be encoded; skipped');
        }
      }
    }
  };

  const onRecorded = (message: unknown): void => {
    const e = message as RecordedEvent;
    const s = sessions.get(e.route);
    if (s === undefined || s.stoppedAt !== undefined) return;
    if (s.queue.length >= MAX_QUEUED) {
      s.queueDropped += 1;
      return;
    }
    if (e.bodyTruncated) s.truncatedBodies += 1;
    s.queue.push(e);
    if (!encodeScheduled) {
      encodeScheduled = true;
      setImmediate(encodePending);
    }
  };
  channels.recorded.subscribe(onRecorded);

  const recordingMap = (): Map<string, RecordSettings> => {
    const m = new Map<string, RecordSettings>();
    for (const s of sessions.values()) if (s.stoppedAt === undefined) m.set(s.route, s.settings);
    return m;
  };

  // Recording copies user traffic to disk: who switched it on and off belongs in the audit ledger.
  const audit = (route: string, action: 'record-start' | 'record-stop', actor: string, to: unknown): void => {
    context.store.appendAudit({ time: Date.now(), subject: route, action, actor, to }).catch((err: unknown) => context.logger.error({ err, route, action }, 'writing the audit entry failed'));
  };

  const finish = (s: Session, applyRouting: boolean): Promise<void> =>
    (s.stopping ??= (async () => {
      s.stoppedAt = Date.now();
      clearTimeout(s.timer);
      if (applyRouting) await context.setRecording(recordingMap());
      encodePending();
      await s.writer.close();
      sessions.delete(s.route);
      finished.unshift(statusOf(s));
      finished.length = Math.min(finished.length, FINISHED_KEPT);
      context.logger.info({ route: s.route, requests: statusOf(s).requests, files: s.writer.stats().files }, 'recording stopped');
    })());

  const api: RecordApi = {
    async start(body, actor) {
      const routeIds = context.routing.routeIds();
      if (!routeIds.includes(body.route)) {
        throw new CutoverError(ErrorCodes.NOT_FOUND, `route "${body.route}" does not exist`, { hint: `known routes: ${routeIds.join(', ')}` });
      }
      if (sessions.has(body.route)) {
        throw new CutoverError(ErrorCodes.CONFLICT, `route "${body.route}" is already being recorded`, { hint: `cutover record stop ${body.route}` });
      }
      const rate = parseRate(body.rate);
      const maxSize = parseSize(body.maxSize);
      const duration = parseRecordDuration(body.duration);
      const out = resolve(body.out);
      let writer: RotatingWriter;
      try {
        writer = await createRotatingWriter({ path: out, maxSize });
      } catch (err) {
        throw new CutoverError(ErrorCodes.BAD_REQUEST, `cannot write ${out}: ${(err as Error).message}`, { hint: 'give a path the cutover process can write to' });
      }
      const startedAt = Date.now();
      const s: Session = {
        route: body.route,
        settings: { rate, withResponse: body.withResponse, captureLimit: captureLimitOf(context.config(), body.route) },
        out,
        maxSize,
        startedAt,
        writer,
        queue: [],
        truncatedBodies: 0,
        queueDropped: 0,
      };
      if (duration !== undefined) {
        s.endsAt = startedAt + duration;
        s.timer = setTimeout(
          () =>
            void finish(s, true).then(
              () => audit(s.route, 'record-stop', 'record:duration', { requests: finished[0]?.requests, bytes: finished[0]?.bytes, files: finished[0]?.files }),
              (err: unknown) => context.logger.error({ err, route: s.route }, 'stopping a recording failed'),
            ),
          duration,
        );
        s.timer.unref();
      }
      sessions.set(s.route, s);
      try {
        await context.setRecording(recordingMap());
      } catch (err) {
        sessions.delete(s.route);
        clearTimeout(s.timer);
        await writer.close();
        throw err;
      }
      context.logger.info({ route: s.route, rate, out, withResponse: body.withResponse, maxSize, duration }, 'recording started');
      audit(s.route, 'record-start', actor, { rate, out, withResponse: body.withResponse, maxSize, ...(duration !== undefined ? { duration } : {}) });
      return statusOf(s);
    },
    async stop(route, actor) {
      const s = sessions.get(route);
      if (s === undefined) {
        throw new CutoverError(ErrorCodes.NOT_FOUND, `route "${route}" is not being recorded`, { hint: 'cutover record status lists the recordings' });
      }
      await finish(s, true);
      const final = finished.find((f) => f.route === route && f.startedAt === s.startedAt) ?? statusOf(s);
      audit(route, 'record-stop', actor, { requests: final.requests, bytes: final.bytes, files: final.files });
      return final;
    },
    status: () => [...[...sessions.values()].map(statusOf), ...finished],
  };

  const routes: AdminRoute[] = [
    {
      method: 'POST',
      path: '/api/v1/record',
      summary: 'Start recording a route’s live traffic to NDJSON (sampled, redacted, rotated by size)',
      tag: 'record',
      body: recordStartBody,
      handler: async (req) => ({ status: 201, body: { recording: await api.start(req.body as RecordStartBody, req.actor) } }),
    },
    {
      method: 'DELETE',
      path: '/api/v1/record/{route}',
      summary: 'Stop recording a route; returns its final counts once the file is flushed',
      tag: 'record',
      handler: async (req) => ({ body: { recording: await api.stop(req.params.route!, req.actor) } }),
    },
    {
      method: 'GET',
      path: '/api/v1/record',
      summary: 'Recordings in progress and recently stopped, with request and byte counts',
      tag: 'record',
      handler: () => ({ body: { recordings: api.status() } }),
    },
  ];

  return {
    name: 'record',
    api,
    routes,
    async close() {
      channels.recorded.unsubscribe(onRecorded);
      // The data plane is already closed when features close: only the files need finishing.
      await Promise.all([...sessions.values()].map((s) => finish(s, false)));
    },
  };
};
