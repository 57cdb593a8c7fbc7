/** Where berthd listens: unix sockets (mode 0660, the socket group), loopback TCP, and TCP with TLS. */
import type { Server } from 'node:net';
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import { InvalidArgumentError, errnoCode } from '../lib/errors.js';

export type ListenAddress = { kind: 'unix'; path: string; url: string } | { kind: 'tcp'; host: string; port: number; url: string };

/** dockerd's --tls/--tlsverify: the server's certificate and key, and the CA that signs client certificates. */
export interface TlsSettings {
  /** Require a client certificate signed by `ca` (--tlsverify); false: server authentication only. */
  verify: boolean;
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** Parses dockerd's -H forms. */
export function parseListenAddress(text: string): ListenAddress {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) throw new InvalidArgumentError(`invalid host ${text}: the socket path must be absolute`);
    return { kind: 'unix', path, url: text };
  }
  if (text.startsWith('/')) return { kind: 'unix', path: text, url: `unix://${text}` };
  if (text.startsWith('tcp://')) {
    const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]*)(?::(\d+))?\/?$/.exec(text);
    if (!match) throw new InvalidArgumentError(`invalid host ${text}`);
    const host = match[1] || '127.0.0.1';
    const port = match[2] ? Number(match[2]) : 2375;
    if (port > 65535) throw new InvalidArgumentError(`invalid host ${text}: port out of range`);
    return { kind: 'tcp', host, port, url: `tcp://${host}:${port}` };
  }
  if (text.startsWith('fd://')) throw new InvalidArgumentError(`invalid host ${text}: socket activation (fd://) is not supported`);
  throw new InvalidArgumentError(`invalid host ${text}: use unix:///path or tcp://127.0.0.1:PORT`);
}

/**
 * The API is root on this host: off loopback, TCP is served only with TLS that verifies client
 * certificates (--tlsverify). Plain TCP, or TLS without client certificates, stays on 127.0.0.0/8.
 */
export function checkTcpExposure(address: ListenAddress, tls: Pick<TlsSettings, 'verify'> | undefined): void {
  if (address.kind !== 'tcp' || tls?.verify) return;
  if (/^127\.\d+\.\d+\.\d+$/.test(address.host) || address.host === 'localhost') return;
  throw new InvalidArgumentError(
    `refusing to listen on ${address.url}: ${tls ? 'TLS without client verification' : 'plain TCP'} exposes the engine (root on this host) to the network; ` +
      'use --tlsverify with --tlscacert, --tlscert and --tlskey, or listen on 127.0.0.0/8',
  );
}

/** Starts `server` on `address`; for a unix socket, replaces a stale socket file first. */
export async function listen(server: Server, address: ListenAddress, socketGroup?: number): Promise<void> {
  if (address.kind === 'tcp') {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return;
  }
  await mkdir(dirname(address.path), { recursive: true, mode: 0o755 });
  await removeStaleSocket(address.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(address.path, 0o660);
  if (socketGroup !== undefined) await chown(address.path, 0, socketGroup);
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const stat = await lstat(path);
    if (!stat.isSocket()) throw new InvalidArgumentError(`cannot listen on ${path}: it exists and is not a socket`);
    if (await someoneListens(path)) {
      throw new InvalidArgumentError(`cannot listen on unix://${path}: another process is serving on it (is another berthd running with a different --data-root?)`);
    }
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

function someoneListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
