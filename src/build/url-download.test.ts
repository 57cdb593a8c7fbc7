/**
 * ADD <url> downloads against real HTTP servers on 127.0.0.1: slow, oversized, redirecting.
 * The limits are small so each case ends in well under a second.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadToFile, type UrlDownloadLimits } from './url-download.js';

const limits: UrlDownloadLimits = { connectTimeoutMs: 5_000, timeoutMs: 500, maxBytes: 1024 * 1024, maxRedirects: 10 };

describe('ADD <url> download', () => {
  let server: Server;
  let base: string;
  let scratch: string;
  let redirectsServed = 0;
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'berth-url-'));
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      if (path === '/file') return res.end('hello from the server\n');
      if (path === '/slow') {
        // Headers and a first byte, then nothing more: only the total timeout ends this.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write('x');
        return;
      }
      if (path === '/big-chunked') {
        res.writeHead(200); // no Content-Length: the cap must hold while streaming
        const chunk = Buffer.alloc(64 * 1024, 'b');
        let sent = 0;
        const pump = () => {
          while (sent < 4 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => (sent = Infinity));
        return pump();
      }
      if (path === '/big-declared') {
        res.writeHead(200, { 'content-length': String(8 * 1024 * 1024) });
        return res.end(Buffer.alloc(8 * 1024 * 1024, 'd'));
      }
      if (path === '/loop') {
        redirectsServed++;
        res.writeHead(302, { location: '/loop' });
        return res.end();
      }
      const hop = /^\/hop\/(\d+)$/.exec(path);
      if (hop) {
        const left = Number(hop[1]);
        res.writeHead(left > 0 ? 307 : 302, { location: left > 0 ? `/hop/${left - 1}` : '/file' });
        return res.end();
      }
      res.writeHead(404, 'Not Found');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(scratch, { recursive: true, force: true });
  });

  const fileFor = (name: string) => join(scratch, name);

  test('a file arrives whole, through a few redirects', async () => {
    const size = await downloadToFile(`${base}/hop/3`, fileFor('ok'), limits);
    assert.equal(size, 22);
    assert.equal(readFileSync(fileFor('ok'), 'utf8'), 'hello from the server\n');
  });

  test('a server that stops sending hits the timeout, and no partial file stays', async () => {
    await assert.rejects(downloadToFile(`${base}/slow`, fileFor('slow'), limits), /failed to GET .*\/slow: timed out after 0.5s/);
    assert.equal(existsSync(fileFor('slow')), false);
  });

  test('a body over the cap is refused while streaming, and no partial file stays', async () => {
    await assert.rejects(downloadToFile(`${base}/big-chunked`, fileFor('big'), limits), /failed to GET .*\/big-chunked: the body is larger than 1048576 bytes, the limit for ADD/);
    assert.equal(existsSync(fileFor('big')), false);
  });

  test('a declared Content-Length over the cap is refused before writing', async () => {
    await assert.rejects(downloadToFile(`${base}/big-declared`, fileFor('declared'), limits), /larger than 1048576 bytes/);
    assert.equal(existsSync(fileFor('declared')), false);
  });

  test('a redirect loop stops after the redirect limit', async () => {
    redirectsServed = 0;
    await assert.rejects(downloadToFile(`${base}/loop`, fileFor('loop'), limits), /failed to GET .*\/loop: stopped after 10 redirects/);
    assert.equal(redirectsServed, 11, 'the first request and ten redirects followed');
    assert.equal(existsSync(fileFor('loop')), false);
  });

  test('an error status is the build error Docker gives', async () => {
    await assert.rejects(downloadToFile(`${base}/missing`, fileFor('missing'), limits), /failed to GET .*\/missing with status 404 Not Found/);
    assert.deepEqual(readdirSync(scratch).sort(), ['ok']);
  });
});
