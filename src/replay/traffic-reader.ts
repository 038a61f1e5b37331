/**
 * Reads recorded traffic files line by line. A bad line is reported with its
 * file and line number and skipped; only an unreadable file stops the read.
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import { parseTrafficLine, type TrafficRecord } from './traffic-format.ts';

export type TrafficItem = { ok: true; record: TrafficRecord; file: string; line: number } | { ok: false; error: string; file: string; line: number };

export async function checkReadable(file: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch (err) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'check the path (cutover record writes traffic.ndjson, then traffic.1.ndjson…)',
    });
  }
}

/** Counts non-empty lines without parsing them, for progress and ETA. */
export async function countLines(files: readonly string[]): Promise<number> {
  let n = 0;
  for (const file of files) {
    let last = 10;
    for await (const chunk of createReadStream(file)) {
      const b = chunk as Buffer;
      for (let i = 0; i < b.length; i++) {
        if (b[i] === 10 && last !== 10) n++;
        last = b[i]!;
      }
    }
    if (last !== 10) n++;
  }
  return n;
}

/**
 * @example
 * for await (const item of readTraffic(['traffic.ndjson', 'traffic.1.ndjson'])) {
 *   if (item.ok) send(item.record); else console.error(`${item.file}:${item.line}: ${item.error}`);
 * }
 */
export async function* readTraffic(files: readonly string[]): AsyncGenerator<TrafficItem> {
  for (const file of files) {
    await checkReadable(file);
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      try {
        yield { ok: true, record: parseTrafficLine(text), file, line };
      } catch (err) {
        yield { ok: false, error: (err as Error).message, file, line };
      }
    }
  }
}
