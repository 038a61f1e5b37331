/**
 * Polls until `fn` returns a value (not undefined), or fails naming what did not happen.
 * @example const line = await eventually(() => logs.find((l) => l.msg === 'config reloaded'), 'the reload');
 */
export async function eventually<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
