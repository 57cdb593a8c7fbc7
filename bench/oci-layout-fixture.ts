/** An OCI image layout over the generated gzip layers, for registry push and pull benchmarks. */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';

async function sha256File(path: string, gunzip: boolean): Promise<string> {
  const hash = createHash('sha256');
  const source = createReadStream(path, { highWaterMark: 1024 * 1024 });
  for await (const chunk of gunzip ? source.pipe(createGunzip({ chunkSize: 512 * 1024 })) : source) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function writeLayoutFromLayers(dir: string, gzLayers: string[], tag: string): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const layers = [];
  const diffIds = [];
  for (const path of gzLayers) {
    const digest = await sha256File(path, false);
    diffIds.push(`sha256:${await sha256File(path, true)}`);
    await copyFile(path, join(dir, 'blobs', 'sha256', digest));
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${digest}`, size: (await stat(path)).size });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configDigest = createHash('sha256').update(config).digest('hex');
  await writeFile(join(dir, 'blobs', 'sha256', configDigest), config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: config.length }, layers }));
  const manifestDigest = createHash('sha256').update(manifest).digest('hex');
  await writeFile(join(dir, 'blobs', 'sha256', manifestDigest), manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${manifestDigest}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
}
