/** Writes a one-layer OCI image layout directory (what skopeo and podman copy from `oci:DIR:TAG`). */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function writeOciLayout(dir: string, layerTarPath: string, tag: string, cmd: string[] = ['/bin/sh']): { manifestDigest: string } {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const tar = readFileSync(layerTarPath);
  const layer = gzipSync(tar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: cmd }, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(tar)}`] }, history: [{ created_by: 'test' }] }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(layer)}`, size: layer.length }],
  }));
  for (const blob of [layer, config, manifest]) writeFileSync(join(dir, 'blobs', 'sha256', sha(blob)), blob);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  return { manifestDigest: `sha256:${sha(manifest)}` };
}
