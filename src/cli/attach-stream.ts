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

/** Opens a hijacked attach; resolves with the raw socket once the engine answered 101. */
export async function attachContainer(client: EngineClient, id: string, streams: { stdout: boolean; stderr: boolean }): Promise<Duplex> {
  const version = await client.apiVersion();
  const { socketPath, host, port } = client.endpoint;
  const path = `/v${version}/containers/${id}/attach?stream=1&stdout=${streams.stdout ? 1 : 0}&stderr=${streams.stderr ? 1 : 0}`;
  return new Promise((resolve, reject) => {
    const req = request({
      method: 'POST',
      path,
      headers: { Host: socketPath ? 'api.moby.localhost' : `${host}:${port}`, Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': '0' },
      ...(socketPath ? { socketPath } : { host, port }),
    });
    req.on('upgrade', (_res, socket) => resolve(socket));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(new CliError(`Error response from daemon: ${(() => { try { return (JSON.parse(body) as { message: string }).message; } catch { return body || `unable to upgrade to tcp, received ${res.statusCode}`; } })()}`, 125)));
    });
    req.on('error', reject);
    req.end();
  });
}
