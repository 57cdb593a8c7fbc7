/** berth-registry garbage-collect: marks from manifests, sweeps the rest, keeps what is referenced. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH_REGISTRY, rawRequest, startRegistry } from '../helpers/registry.js';

const run = promisify(execFile);
const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

test('garbage-collect sweeps blobs only deleted manifests used, after a dry run that changes nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-registry-gc-'));
  let registry = await startRegistry({ root, args: ['--delete'] });
  try {
    const push = async (repo: string, tag: string, layerText: string) => {
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, tag }));
      const layer = Buffer.from(layerText);
      for (const blob of [config, layer]) {
        const res = await rawRequest(registry.port, 'POST', `/v2/${repo}/blobs/uploads/?digest=${sha256(blob)}`, { body: blob });
        assert.equal(res.status, 201);
      }
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
      });
      assert.equal((await rawRequest(registry.port, 'PUT', `/v2/${repo}/manifests/${tag}`, { body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } })).status, 201);
      return { manifest: sha256(manifest), layer: sha256(layer) };
    };
    const kept = await push('gc/app', 'keep', 'layer that stays');
    const doomed = await push('gc/app', 'drop', 'layer that goes');
    assert.equal((await rawRequest(registry.port, 'DELETE', `/v2/gc/app/manifests/${doomed.manifest}`)).status, 202);
    await registry.stop();

    const dry = await run(process.execPath, [BERTH_REGISTRY, 'garbage-collect', '--root', join(root, 'storage'), '--dry-run']);
    assert.match(dry.stdout, new RegExp(`would delete ${doomed.layer}`));
    assert.match(dry.stdout, new RegExp(`would delete ${doomed.manifest}`));
    assert.doesNotMatch(dry.stdout, new RegExp(kept.layer));

    const real = await run(process.execPath, [BERTH_REGISTRY, 'garbage-collect', '--root', join(root, 'storage')]);
    assert.match(real.stdout, /3 deleted/, real.stdout);

    registry = await startRegistry({ root, port: registry.port, args: ['--delete'] });
    assert.equal((await rawRequest(registry.port, 'GET', `/v2/gc/app/blobs/${kept.layer}`)).text, 'layer that stays');
    assert.equal((await rawRequest(registry.port, 'GET', '/v2/gc/app/manifests/keep')).status, 200);
    assert.equal((await rawRequest(registry.port, 'GET', `/v2/gc/app/blobs/${doomed.layer}`)).status, 404);
  } finally {
    await registry.cleanup();
    await rm(root, { recursive: true, force: true });
  }
});
