/** Shared argument helper for the benchmark peers. */
export function splitHostPort(value: string | undefined): [string, number] {
  const m = /^(.+):(\d{1,5})$/.exec(value ?? '');
  if (m === null) throw new Error(`--listen host:port is required (got ${JSON.stringify(value)})`);
  return [m[1], Number(m[2])];
}
