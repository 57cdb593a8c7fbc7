/**
 * conmon's k8s-file log format: one record per line, "<RFC3339Nano time> <stdout|stderr> <P|F>
 * <text>", where P marks a partial line (no newline at its end) and F a full one.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text with its newline restored for full lines. */
  text: string;
}

export function parseLogLine(line: string): LogRecord | undefined {
  const first = line.indexOf(' ');
  const second = line.indexOf(' ', first + 1);
  const third = line.indexOf(' ', second + 1);
  if (first === -1 || second === -1) return undefined;
  const stream = line.slice(first + 1, second);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = third === -1 ? line.slice(second + 1) : line.slice(second + 1, third);
  const text = third === -1 ? '' : line.slice(third + 1);
  return { time: line.slice(0, first), stream, text: tag.startsWith('P') ? text : `${text}\n` };
}

/** Every record of a log file, in order. */
export async function* readLogFile(path: string): AsyncGenerator<LogRecord> {
  const lines = createInterface({ input: createReadStream(path, { highWaterMark: 1024 * 1024 }), crlfDelay: Infinity });
  for await (const line of lines) {
    const record = parseLogLine(line);
    if (record) yield record;
  }
}
