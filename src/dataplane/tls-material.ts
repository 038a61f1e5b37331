/**
 * The proxy listener's certificate and key: read from their files and checked
 * together before a server is created with them or switched to them, so a
 * missing file, a bad PEM or a key of another certificate is a config error
 * that names the key, never a listener that fails its first handshake.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from '../config/schema.ts';
import { CutoverError, ErrorCodes } from '../core/errors.ts';

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

function readPem(path: string, key: 'cert' | 'key'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CutoverError(ErrorCodes.CONFIG_INVALID, `tls.${key}: cannot read ${path}: ${(err as Error).message}`, {
      hint: `point tls.${key} at a readable PEM file (relative paths start from the working directory)`,
      cause: err,
    });
  }
}

/**
 * @example
 * const material = readTlsMaterial({ cert: '/etc/cutover/tls.crt', key: '/etc/cutover/tls.key' });
 * https.createServer({ ...material }, handler);
 */
export function readTlsMaterial(tls: TlsConfig): TlsMaterial {
  const material = { cert: readPem(tls.cert, 'cert'), key: readPem(tls.key, 'key') };
  try {
    createSecureContext(material);
  } catch (err) {
    const reason = (err as Error).message;
    const mismatch = /key values mismatch/i.test(reason);
    throw new CutoverError(
      ErrorCodes.CONFIG_INVALID,
      mismatch ? `tls: the key in ${tls.key} does not belong to the certificate in ${tls.cert}` : `tls: ${tls.cert} and ${tls.key} are not a usable PEM certificate and key: ${reason}`,
      { hint: mismatch ? 'use the key the certificate was issued for' : 'give tls.cert a PEM certificate chain and tls.key its unencrypted PEM private key', cause: err },
    );
  }
  return material;
}

export const sameTlsMaterial = (a: TlsMaterial | undefined, b: TlsMaterial | undefined): boolean => a?.cert === b?.cert && a?.key === b?.key;
