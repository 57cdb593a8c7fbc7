/** The harness's own requests: one that berthd never finishes answering fails naming what hung. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, HungRequestError } from './crash-harness.js';

test('a harness request that gets no complete answer fails with the request it was', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-harness-'));
  // Answers the headers and then never ends the body, as a hung rm -f would.
  const server = createServer((_req, res) => res.writeHead(200).write('{'));
  await new Promise<void>((resolve) => server.listen(join(dir, 'api.sock'), resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  await assert.rejects(api(join(dir, 'api.sock'), 'DELETE', '/containers/abc?force=1', undefined, {}, 200), (err: Error) => {
    assert.ok(err instanceof HungRequestError);
    assert.equal(err.message, 'DELETE /containers/abc?force=1 got no complete answer within 0.2 s');
    return true;
  });
});
