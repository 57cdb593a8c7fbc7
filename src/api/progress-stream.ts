/**
 * Docker's JSON message streams (import, load, pull, push, build): 200 and headers at once, one
 * message per line, and a failure after that as `errorDetail`, which is what the CLI acts on.
 */
import type { ApiReply } from './api-reply.js';
import { openJsonStream } from './json-stream.js';
import { toHttpError } from './http-errors.js';

export interface ProgressWriter {
  send(message: Record<string, unknown>): Promise<void>;
}

export async function withProgressStream(reply: ApiReply, work: (out: ProgressWriter) => Promise<void>): Promise<void> {
  const stream = openJsonStream(reply);
  try {
    await work({ send: (message) => stream.write(JSON.stringify(message)) });
  } catch (err) {
    const { status, message } = toHttpError(err);
    if (status >= 500) reply.log.error({ err }, 'streamed request failed');
    await stream.write(JSON.stringify({ errorDetail: { message }, error: message }));
  } finally {
    stream.end();
  }
}
