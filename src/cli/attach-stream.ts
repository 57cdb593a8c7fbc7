/**
 * The client side of Docker's streams: hijacking POST /containers/{id}/attach (101, then raw
 * bytes), and splitting the multiplexed stream (8-byte headers) into stdout and stderr.
 */
import { request } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { EngineClient } from './engine-client.js';
import { CliError } from './cli-errors.js';

/** Copies a multiplexed stream to stdout/stderr until it ends. */
export async function demultiplex(source: Readable | Duplex, stdout: Writable, stderr: Writable): Promise<void> {
  let buffered: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    buffered = buffered.length ? Buffer.concat([buffered, chunk as Buffer]) : (chunk as Buffer);
    while (buffered.length >= 8) {
      const size = buffered.readUInt32BE(4);
      if (buffered.length < 8 + size) break;
      const payload = buffered.subarray(8, 8 + size);
      (buffered[0] === 2 ? stderr : stdout).write(payload);
      buffered = buffered.subarray(8 + size);
    }
  }
}

/** Sends a hijacking request (Connection: Upgrade); resolves with the raw socket after the 101. */
export async function hijack(client: EngineClient, path: string, body?: unknown): Promise<Duplex> {
  const version = await client.apiVersion();
  const { socketPath, host, port } = client.endpoint;
  const payload = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({
      method: 'POST',
      path: `/v${version}${path}`,
      headers: {
        Host: socketPath ? 'api.moby.localhost' : `${host}:${port}`,
        Connection: 'Upgrade',
        Upgrade: 'tcp',
        'Content-Length': String(Buffer.byteLength(payload)),
        ...(payload ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(socketPath ? { socketPath } : { host, port }),
    });
    req.on('upgrade', (_res, socket) => resolve(socket));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        let message = text || `unable to upgrade to tcp, received ${res.statusCode}`;
        try {
          message = (JSON.parse(text) as { message: string }).message;
        } catch {
          // not JSON: show it as it is
        }
        reject(new CliError(`Error response from daemon: ${message}`, 125));
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens a hijacked attach to a container's output. */
export function attachContainer(client: EngineClient, id: string, streams: { stdout: boolean; stderr: boolean }): Promise<Duplex> {
  return hijack(client, `/containers/${id}/attach?stream=1&stdout=${streams.stdout ? 1 : 0}&stderr=${streams.stderr ? 1 : 0}`);
}
