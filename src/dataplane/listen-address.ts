/**
 * Listening on `host:port` addresses, shared by the proxy, the admin API and
 * the metrics listener so all three report a bad address or a busy port the
 * same way.
 */
import type { Server } from 'node:net';
import { CutoverError, ErrorCodes } from '../core/errors.ts';

export function parseHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  if (!m) throw new CutoverError(ErrorCodes.INPUT_INVALID, `"${address}" is not host:port`, { hint: 'write e.g. 127.0.0.1:8080' });
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * Listens and resolves with the bound address (the real port when asked for port 0).
 * @example const { port } = await listenOn(server, '127.0.0.1:0');
 */
export async function listenOn(server: Server, address: string): Promise<{ host: string; port: number }> {
  const { host, port } = parseHostPort(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return { host, port: typeof addr === 'object' && addr ? addr.port : port };
}
