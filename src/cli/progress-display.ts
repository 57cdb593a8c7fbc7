/**
 * Draws a pull or push progress stream as the docker CLI does: on a terminal one line per layer,
 * redrawn in place with its bar; otherwise plain lines, one per status change.
 */
import type { Writable } from 'node:stream';
import type { EngineClient, EngineResponse } from './engine-client.js';
import { CliError } from './cli-errors.js';

interface Message {
  status?: string;
  id?: string;
  progress?: string;
  stream?: string;
  aux?: unknown;
  errorDetail?: { message?: string; code?: number };
  error?: string;
}

export async function displayProgress(client: EngineClient, response: EngineResponse, out: Writable & { isTTY?: boolean }, quiet = false): Promise<unknown[]> {
  const tty = out.isTTY === true && !quiet;
  const lines: string[] = [];
  const lastStatus = new Map<string, string>();
  const aux: unknown[] = [];
  for await (const message of client.jsonLines<Message>(response)) {
    if (message.errorDetail) throw new CliError(message.errorDetail.message ?? message.error ?? 'unknown error', 1);
    if (message.aux !== undefined) {
      aux.push(message.aux);
      continue;
    }
    if (quiet) continue;
    if (message.stream !== undefined) {
      out.write(message.stream);
      continue;
    }
    const status = message.status ?? '';
    if (!message.id) {
      out.write(`${status}\n`);
      continue;
    }
    const text = `${message.id}: ${status}${tty && message.progress ? ` ${message.progress}` : ''}`;
    if (!tty) {
      // Without a terminal, progress updates are noise: print each status once.
      if (status === 'Downloading' || status === 'Pushing' || status === 'Extracting' || lastStatus.get(message.id) === status) continue;
      lastStatus.set(message.id, status);
      out.write(`${text}\n`);
      continue;
    }
    const index = lines.indexOf(message.id);
    if (index === -1) {
      lines.push(message.id);
      out.write(`${text}\n`);
    } else {
      const up = lines.length - index;
      out.write(`\x1b[${up}A\r\x1b[2K${text}\r\x1b[${up}B`);
    }
  }
  return aux;
}
