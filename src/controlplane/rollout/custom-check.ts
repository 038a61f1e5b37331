/**
 * The custom gate's HTTP call. The core only interprets the result; the call
 * lives here so the state machine stays pure.
 */
import { request } from 'undici';
import type { CustomCheckResult } from '../../rollout/index.ts';
import type { CustomGateConfig } from '../../config/rollout-schema.ts';

export interface CustomCheckContext {
  rollout: string;
  routes: string[];
  step: number;
  stepLabel: string;
  window: { from: number; to: number } | null;
}

/**
 * POSTs the rollout context as JSON; a 2xx answer passes, any other answer
 * fails. No answer in time (or no connection) returns undefined, which the
 * core treats as inconclusive: an unreachable checker says nothing about the
 * candidate.
 *
 * @example
 * const custom = await runCustomCheck({ url: 'http://slo.internal/check', timeout: 5000 }, { rollout: 'wallet', … });
 * // { ok: false, detail: 'HTTP 412: conversion -4%' }
 */
export async function runCustomCheck(gate: CustomGateConfig, context: CustomCheckContext): Promise<CustomCheckResult | undefined> {
  const signal = AbortSignal.timeout(gate.timeout);
  try {
    const res = await request(gate.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/plain' },
      body: JSON.stringify(context),
      signal,
      headersTimeout: gate.timeout,
      bodyTimeout: gate.timeout,
    });
    const text = (await res.body.text()).trim().slice(0, 300);
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const detail = text === '' ? `HTTP ${res.statusCode}` : `HTTP ${res.statusCode}: ${text}`;
    return { ok, detail };
  } catch {
    return undefined;
  }
}
