/**
 * Appends lines to `traffic.ndjson`, then `traffic.1.ndjson`, `traffic.2.ndjson`…
 * each at most `maxSize` bytes (a line is never split across files). Lines
 * are buffered and written in batches from a timer, so the caller never
 * waits on the disk; when the disk falls behind by more than `maxPendingBytes`
 * new lines are dropped and counted instead of growing memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

export interface RotatingWriterOptions {
  path: string;
  maxSize: number;
  flushMs?: number;
  maxPendingBytes?: number;
}

export interface RotatingWriterStats {
  lines: number;
  bytes: number;
  dropped: number;
  files: string[];
  /** The last write error, if any. */
  error?: string;
}

export interface RotatingWriter {
  /** False when the line was dropped (backlog full, or the writer is closed). */
  write(line: string): boolean;
  stats(): RotatingWriterStats;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** `traffic.ndjson`, index 2 → `traffic.2.ndjson`. */
export function rotatedPath(path: string, index: number): string {
  if (index === 0) return path;
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}.${index}${ext}`);
}

/**
 * Opens (truncating) the first file before returning, so a bad path fails the caller at once.
 * @example
 * const w = await createRotatingWriter({ path: '/tmp/traffic.ndjson', maxSize: 100 << 20 });
 * w.write(JSON.stringify(record));
 * await w.close();
 */
export async function createRotatingWriter(options: RotatingWriterOptions): Promise<RotatingWriter> {
  const maxPending = options.maxPendingBytes ?? 32 * 1024 * 1024;
  let index = 0;
  let handle: FileHandle = await open(options.path, 'w');
  const files = [options.path];
  let fileSize = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lines = 0;
  let bytes = 0;
  let dropped = 0;
  let error: string | undefined;
  let closed = false;
  let writing: Promise<void> = Promise.resolve();

  const writeBatch = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    const writeChunk = async () => {
      if (chunk.length === 0) return;
      await handle.write(Buffer.concat(chunk, chunkBytes));
      fileSize += chunkBytes;
      chunk = [];
      chunkBytes = 0;
    };
    try {
      for (const line of batch) {
        if (fileSize + chunkBytes + line.length > options.maxSize && fileSize + chunkBytes > 0) {
          await writeChunk();
          await handle.close();
          index += 1;
          const next = rotatedPath(options.path, index);
          handle = await open(next, 'w');
          files.push(next);
          fileSize = 0;
        }
        chunk.push(line);
        chunkBytes += line.length;
      }
      await writeChunk();
    } catch (err) {
      error = (err as Error).message;
    }
  };

  const flush = (): Promise<void> => {
    writing = writing.then(writeBatch);
    return writing;
  };
  const timer = setInterval(() => void flush(), options.flushMs ?? 200);
  timer.unref();

  return {
    write(line) {
      if (closed) return false;
      const buf = Buffer.from(`${line}\n`, 'utf8');
      if (pendingBytes + buf.length > maxPending) {
        dropped += 1;
        return false;
      }
      pending.push(buf);
      pendingBytes += buf.length;
      lines += 1;
      bytes += buf.length;
      return true;
    },
    stats: () => ({ lines, bytes, dropped, files: [...files], ...(error !== undefined ? { error } : {}) }),
    flush,
    async close() {
      if (closed) return writing;
      closed = true;
      clearInterval(timer);
      await flush();
      await handle.close();
    },
  };
}
