/**
 * Prints a daemon's JSON message stream as the docker CLI's jsonmessage does: `stream` text as
 * it is, `status` lines (with their id), and stops with the error of an `errorDetail`.
 */
import type { Writable } from 'node:stream';
import type { EngineClient, EngineResponse } from './engine-client.js';
import { CliError } from './cli-errors.js';

interface JsonMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
}

/** Prints every message; returns the `aux` payloads; throws on an error message. */
export async function displayJsonMessages(client: EngineClient, response: EngineResponse, out: Writable): Promise<unknown[]> {
  const aux: unknown[] = [];
  for await (const message of client.jsonLines<JsonMessage>(response)) {
    if (message.errorDetail) throw new CliError(message.errorDetail.message ?? message.error ?? 'unknown error', message.errorDetail.code || 1);
    if (message.aux !== undefined) {
      aux.push(message.aux);
      continue;
    }
    if (message.stream !== undefined) out.write(message.stream);
    else if (message.status !== undefined) out.write(`${message.id ? `${message.id}: ` : ''}${message.status}${message.progress ? ` ${message.progress}` : ''}\n`);
  }
  return aux;
}
