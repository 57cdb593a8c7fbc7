/**
 * OCI Distribution v1.1 conformance, written from the spec's endpoint table and error codes:
 * pull, push (monolithic, chunked, out of order), mount, content discovery (tags, referrers,
 * catalog) and content management (deletes), plus bad input and a crash during an upload.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest, startRegistry, type TestRegistry } from '../helpers/registry.js';

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

describe('berth-registry: OCI Distribution conformance', () => {
  let registry: TestRegistry;
  let root: string;
  let req: (method: string, path: string, options?: { body?: Buffer | string; headers?: Record<string, string> }) => ReturnType<typeof rawRequest>;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.alloc(300_000, 'layer data ');

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-registry-conformance-'));
    registry = await startRegistry({ root, args: ['--delete'] });
    req = (method, path, options) => rawRequest(registry.port, method, path, options);
  });
  after(async () => {
    await registry?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  const pushBlob = async (name: string, data: Buffer) => {
    const res = await req('POST', `/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status, 201, res.text);
    return sha256(data);
  };
  const manifestFor = (extra: Record<string, unknown> = {}) =>
    Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
      ...extra,
    }));

  test('end-1: GET /v2/ answers 200 with the API version header', async () => {
    const res = await req('GET', '/v2/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
  });

  test('end-4b, end-2: monolithic upload, then HEAD, GET and ranged GET of the blob', async () => {
    const digest = await pushBlob('conf/app', layer);
    const head = await req('HEAD', `/v2/conf/app/blobs/${digest}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(layer.length));
    assert.equal(head.headers['docker-content-digest'], digest);
    const get = await req('GET', `/v2/conf/app/blobs/${digest}`);
    assert.deepEqual(get.body, layer);
    const ranged = await req('GET', `/v2/conf/app/blobs/${digest}`, { headers: { Range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers['content-range'], `bytes 10-19/${layer.length}`);
    assert.deepEqual(ranged.body, layer.subarray(10, 20));
    await pushBlob('conf/app', config);
  });

  test('end-4a, end-6: POST a session then PUT the whole blob', async () => {
    const data = Buffer.from('post then put');
    const post = await req('POST', '/v2/conf/post-put/blobs/uploads/');
    assert.equal(post.status, 202);
    const location = String(post.headers['location']);
    assert.match(location, /^\/v2\/conf\/post-put\/blobs\/uploads\/[0-9a-f-]{36}$/);
    const put = await req('PUT', `${location}?digest=${sha256(data)}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.headers['location'], `/v2/conf/post-put/blobs/${sha256(data)}`);
    assert.equal((await req('GET', `/v2/conf/post-put/blobs/${sha256(data)}`)).text, 'post then put');
  });

  test('end-5, end-13: chunked upload; an out-of-order chunk gets 416 and the status says where to resume', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    const location = String((await req('POST', '/v2/conf/chunked/blobs/uploads/')).headers['location']);
    const first = await req('PATCH', location, { body: data.subarray(0, 8), headers: { 'Content-Range': '0-7', 'Content-Type': 'application/octet-stream' } });
    assert.equal(first.status, 202);
    assert.equal(first.headers['range'], '0-7');
    const wrong = await req('PATCH', location, { body: data.subarray(12), headers: { 'Content-Range': '12-19', 'Content-Type': 'application/octet-stream' } });
    assert.equal(wrong.status, 416);
    const status = await req('GET', location);
    assert.equal(status.status, 204);
    assert.equal(status.headers['range'], '0-7');
    const second = await req('PATCH', location, { body: data.subarray(8), headers: { 'Content-Range': '8-19', 'Content-Type': 'application/octet-stream' } });
    assert.equal(second.status, 202);
    assert.equal(second.headers['range'], '0-19');
    const done = await req('PUT', `${location}?digest=${sha256(data)}`);
    assert.equal(done.status, 201, done.text);
    assert.equal((await req('GET', `/v2/conf/chunked/blobs/${sha256(data)}`)).text, data.toString());
  });

  test('a wrong digest gets DIGEST_INVALID and stores nothing', async () => {
    const bad = await req('POST', `/v2/conf/app/blobs/uploads/?digest=${sha256('something else')}`, { body: 'actual content' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json<{ errors: { code: string }[] }>().errors[0]!.code, 'DIGEST_INVALID');
    assert.equal((await req('HEAD', `/v2/conf/app/blobs/${sha256('actual content')}`)).status, 404);
    const location = String((await req('POST', '/v2/conf/app/blobs/uploads/')).headers['location']);
    const put = await req('PUT', `${location}?digest=${sha256('nope')}`, { body: 'yes' });
    assert.equal(put.json<{ errors: { code: string }[] }>().errors[0]!.code, 'DIGEST_INVALID');
  });

  test('DELETE of an upload session cancels it', async () => {
    const location = String((await req('POST', '/v2/conf/app/blobs/uploads/')).headers['location']);
    assert.equal((await req('DELETE', location)).status, 204);
    const status = await req('GET', location);
    assert.equal(status.status, 404);
    assert.equal(status.json<{ errors: { code: string }[] }>().errors[0]!.code, 'BLOB_UPLOAD_UNKNOWN');
  });

  test('end-11: cross-repository mount (201), and a fallback session when the blob is not there (202)', async () => {
    const mounted = await req('POST', `/v2/conf/other/blobs/uploads/?mount=${sha256(layer)}&from=conf/app`);
    assert.equal(mounted.status, 201);
    assert.equal(mounted.headers['location'], `/v2/conf/other/blobs/${sha256(layer)}`);
    assert.equal((await req('HEAD', `/v2/conf/other/blobs/${sha256(layer)}`)).status, 200);
    const fallback = await req('POST', `/v2/conf/other/blobs/uploads/?mount=${sha256('absent')}&from=conf/app`);
    assert.equal(fallback.status, 202);
  });

  test('a blob of another repository is not served without a mount', async () => {
    const res = await req('GET', `/v2/conf/unrelated/blobs/${sha256(layer)}`);
    assert.equal(res.status, 404);
    assert.equal(res.json<{ errors: { code: string }[] }>().errors[0]!.code, 'BLOB_UNKNOWN');
  });

  test('end-7, end-3: a manifest is stored byte for byte and served by tag and by digest', async () => {
    const body = Buffer.from(manifestFor().toString().replace('{', '{  ')); // odd spacing must survive
    const put = await req('PUT', '/v2/conf/app/manifests/v1', { body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.headers['docker-content-digest'], sha256(body));
    assert.equal(put.headers['location'], `/v2/conf/app/manifests/${sha256(body)}`);
    for (const ref of ['v1', sha256(body)]) {
      const get = await req('GET', `/v2/conf/app/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(get.status, 200);
      assert.deepEqual(get.body, body);
      assert.equal(get.headers['content-type'], OCI_MANIFEST);
      assert.equal(get.headers['docker-content-digest'], sha256(body));
    }
    const head = await req('HEAD', '/v2/conf/app/manifests/v1');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(body.length));
  });

  test('manifest errors: MANIFEST_BLOB_UNKNOWN, MANIFEST_INVALID, DIGEST_INVALID, too large, MANIFEST_UNKNOWN', async () => {
    const code = (res: { json<T>(): T }) => res.json<{ errors: { code: string }[] }>().errors[0]!.code;
    const missing = manifestFor({ layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256('missing'), size: 7 }] });
    const r1 = await req('PUT', '/v2/conf/app/manifests/missing', { body: missing, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r1.status, 400);
    assert.equal(code(r1), 'MANIFEST_BLOB_UNKNOWN');
    const r2 = await req('PUT', '/v2/conf/app/manifests/bad', { body: '{"schemaVersion": 2, "layers": [', headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(code(r2), 'MANIFEST_INVALID');
    const r3 = await req('PUT', `/v2/conf/app/manifests/${sha256('other')}`, { body: manifestFor(), headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(code(r3), 'DIGEST_INVALID');
    const huge = manifestFor({ annotations: { padding: 'x'.repeat(5 * 1024 * 1024) } });
    const r4 = await req('PUT', '/v2/conf/app/manifests/huge', { body: huge, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r4.status, 413);
    const r5 = await req('GET', '/v2/conf/app/manifests/nosuchtag');
    assert.equal(r5.status, 404);
    assert.equal(code(r5), 'MANIFEST_UNKNOWN');
    const schema1 = await req('PUT', '/v2/conf/app/manifests/old', { body: JSON.stringify({ schemaVersion: 1, name: 'x' }), headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v1+json' } });
    assert.equal(code(schema1), 'MANIFEST_INVALID');
  });

  test('an index may only name manifests the repository has', async () => {
    const child = manifestFor();
    assert.equal((await req('PUT', `/v2/conf/app/manifests/${sha256(child)}`, { body: child, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
    const index = (digest: string, size: number) => JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest, size, platform: { os: 'linux', architecture: 'amd64' } }] });
    const ok = await req('PUT', '/v2/conf/app/manifests/multi', { body: index(sha256(child), child.length), headers: { 'Content-Type': OCI_INDEX } });
    assert.equal(ok.status, 201, ok.text);
    const bad = await req('PUT', '/v2/conf/app/manifests/multi-bad', { body: index(sha256('nothing'), 7), headers: { 'Content-Type': OCI_INDEX } });
    assert.equal(bad.json<{ errors: { code: string }[] }>().errors[0]!.code, 'MANIFEST_BLOB_UNKNOWN');
  });

  test('end-8: tags list with n/last pagination and a Link header', async () => {
    for (const tag of ['a1', 'a2', 'a3', 'a4']) {
      assert.equal((await req('PUT', `/v2/conf/tags/manifests/${tag}`, { body: manifestFor(), headers: { 'Content-Type': OCI_MANIFEST } })).status, 400, 'blobs not linked in this repository yet');
    }
    await req('POST', `/v2/conf/tags/blobs/uploads/?mount=${sha256(layer)}&from=conf/app`);
    await req('POST', `/v2/conf/tags/blobs/uploads/?mount=${sha256(config)}&from=conf/app`);
    for (const tag of ['a1', 'a2', 'a3', 'a4']) {
      assert.equal((await req('PUT', `/v2/conf/tags/manifests/${tag}`, { body: manifestFor(), headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
    }
    const all = await req('GET', '/v2/conf/tags/tags/list');
    assert.deepEqual(all.json(), { name: 'conf/tags', tags: ['a1', 'a2', 'a3', 'a4'] });
    const page = await req('GET', '/v2/conf/tags/tags/list?n=2');
    assert.deepEqual(page.json<{ tags: string[] }>().tags, ['a1', 'a2']);
    assert.equal(page.headers['link'], '</v2/conf/tags/tags/list?n=2&last=a2>; rel="next"');
    const next = await req('GET', '/v2/conf/tags/tags/list?n=2&last=a2');
    assert.deepEqual(next.json<{ tags: string[] }>().tags, ['a3', 'a4']);
    const unknown = await req('GET', '/v2/conf/nope/tags/list');
    assert.equal(unknown.json<{ errors: { code: string }[] }>().errors[0]!.code, 'NAME_UNKNOWN');
  });

  test('_catalog with pagination', async () => {
    const all = (await req('GET', '/v2/_catalog')).json<{ repositories: string[] }>().repositories;
    assert.ok(all.includes('conf/app') && all.includes('conf/tags'));
    assert.deepEqual(all, [...all].sort());
    const page = await req('GET', '/v2/_catalog?n=1');
    assert.equal(page.json<{ repositories: string[] }>().repositories.length, 1);
    assert.match(String(page.headers['link']), /rel="next"/);
  });

  test('end-12: referrers, with OCI-Subject on push and artifactType filtering', async () => {
    const subjectBody = manifestFor();
    const subject = { mediaType: OCI_MANIFEST, digest: sha256(subjectBody), size: subjectBody.length };
    const emptyConfig = Buffer.from('{}');
    await pushBlob('conf/app', emptyConfig);
    const artifact = (type: string) =>
      Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: type,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(emptyConfig), size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
        subject,
        annotations: { note: type },
      }));
    const sbom = artifact('application/vnd.example.sbom');
    const put = await req('PUT', `/v2/conf/app/manifests/${sha256(sbom)}`, { body: sbom, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.headers['oci-subject'], subject.digest);
    const sig = artifact('application/vnd.example.signature');
    await req('PUT', `/v2/conf/app/manifests/${sha256(sig)}`, { body: sig, headers: { 'Content-Type': OCI_MANIFEST } });

    const all = await req('GET', `/v2/conf/app/referrers/${subject.digest}`);
    assert.equal(all.status, 200);
    const index = all.json<{ mediaType: string; manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[] }>();
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(index.manifests.map((m) => m.artifactType).sort(), ['application/vnd.example.signature', 'application/vnd.example.sbom'].sort());
    const filtered = await req('GET', `/v2/conf/app/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`);
    assert.equal(filtered.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(filtered.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest), [sha256(sbom)]);
    const none = await req('GET', `/v2/conf/app/referrers/${sha256('no subject')}`);
    assert.equal(none.status, 200);
    assert.deepEqual(none.json<{ manifests: unknown[] }>().manifests, []);
  });

  test('end-9, end-10: deletes of a tag, a manifest and a blob', async () => {
    assert.equal((await req('DELETE', '/v2/conf/tags/manifests/a4')).status, 202);
    assert.deepEqual((await req('GET', '/v2/conf/tags/tags/list')).json<{ tags: string[] }>().tags, ['a1', 'a2', 'a3']);
    const digest = sha256(manifestFor());
    assert.equal((await req('DELETE', `/v2/conf/tags/manifests/${digest}`)).status, 202);
    assert.equal((await req('GET', `/v2/conf/tags/manifests/${digest}`)).status, 404);
    assert.deepEqual((await req('GET', '/v2/conf/tags/tags/list')).json<{ tags: string[] }>().tags, [], 'tags of a deleted manifest go with it');
    assert.equal((await req('DELETE', `/v2/conf/other/blobs/${sha256(layer)}`)).status, 202);
    assert.equal((await req('GET', `/v2/conf/other/blobs/${sha256(layer)}`)).status, 404);
    assert.equal((await req('GET', `/v2/conf/app/blobs/${sha256(layer)}`)).status, 200, 'other repositories keep the blob');
  });

  test('names with "..", capitals or over 255 characters are NAME_INVALID', async () => {
    for (const path of ['/v2/conf/../etc/tags/list', '/v2/Conf/App/tags/list', `/v2/${'a'.repeat(256)}/tags/list`, '/v2/conf/%2e%2e/x/tags/list']) {
      const res = await req('GET', path);
      assert.equal(res.status, 400, path);
      assert.equal(res.json<{ errors: { code: string }[] }>().errors[0]!.code, 'NAME_INVALID', path);
    }
  });

  test('a crash during an upload leaves no blob visible, and the upload resumes after a restart', async () => {
    const data = Buffer.alloc(2_000_000, 'resumable ');
    const location = String((await req('POST', '/v2/conf/resume/blobs/uploads/')).headers['location']);
    await req('PATCH', location, { body: data.subarray(0, 1_000_000), headers: { 'Content-Range': '0-999999' } });
    assert.equal((await req('HEAD', `/v2/conf/resume/blobs/${sha256(data)}`)).status, 404, 'nothing visible before the upload ends');
    await registry.crash();
    registry = await startRegistry({ root, port: registry.port, args: ['--delete'] });
    const status = await req('GET', location);
    assert.equal(status.status, 204, 'the session survived the crash');
    assert.equal(status.headers['range'], '0-999999');
    await req('PATCH', location, { body: data.subarray(1_000_000), headers: { 'Content-Range': '1000000-1999999' } });
    const done = await req('PUT', `${location}?digest=${sha256(data)}`);
    assert.equal(done.status, 201, done.text);
    assert.deepEqual((await req('GET', `/v2/conf/resume/blobs/${sha256(data)}`)).body, data);
    const uuid = location.split('/').pop()!;
    assert.equal(existsSync(join(root, 'storage', 'uploads', uuid)), false, 'the finished session is gone');
  });
});

describe('berth-registry: deletes disabled and read-only', () => {
  test('without --delete, deletes are UNSUPPORTED (405); --read-only refuses pushes', async () => {
    const registry = await startRegistry({ args: ['--read-only'] });
    try {
      const del = await rawRequest(registry.port, 'DELETE', `/v2/a/manifests/${sha256('x')}`);
      assert.equal(del.status, 405);
      assert.equal(del.json<{ errors: { code: string }[] }>().errors[0]!.code, 'UNSUPPORTED');
      const push = await rawRequest(registry.port, 'POST', '/v2/a/blobs/uploads/');
      assert.equal(push.status, 405);
    } finally {
      await registry.cleanup();
    }
  });
});
