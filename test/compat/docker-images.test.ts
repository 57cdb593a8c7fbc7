/** The real docker CLI, skopeo and umoci against berthd's image store and archives. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';

describe('docker CLI image commands against berthd', { skip: dockerCliAvailable ? false : 'the docker CLI is not on PATH' }, () => {
  let daemon: TestDaemon;
  let rootfs: string;
  before(async () => {
    daemon = await startBerthd();
    rootfs = makeBusyboxRootfs(join(daemon.root, 'busybox.tar'));
  });
  after(async () => {
    await daemon?.cleanup();
  });
  const run = (...args: string[]) => docker(daemon.host, args);
  let id = '';

  test('docker import busybox.tar accept/busybox:1', async () => {
    const r = await run('import', rootfs, 'accept/busybox:1');
    assert.equal(r.code, 0, r.stderr);
    id = r.stdout.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
  });

  test('docker images lists it in docker\'s columns', async () => {
    const r = await run('images');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n/);
    assert.match(r.stdout, new RegExp(`\\naccept/busybox +1 +${id.slice(7, 19)} +\\S.* ago +[\\d.]+MB\\n`));
    const q = await run('images', '-q');
    assert.equal(q.stdout, `${id.slice(7, 19)}\n`);
    const formatted = await run('images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
    assert.equal(formatted.stdout, `accept/busybox:1 ${id.slice(7, 19)}\n`);
  });

  test('docker image inspect prints the image', async () => {
    const r = await run('image', 'inspect', 'accept/busybox:1');
    assert.equal(r.code, 0, r.stderr);
    const [image] = JSON.parse(r.stdout) as { Id: string; RepoTags: string[]; Os: string; RootFS: { Layers: string[] } }[];
    assert.equal(image!.Id, id);
    assert.deepEqual(image!.RepoTags, ['accept/busybox:1']);
    assert.equal(image!.Os, 'linux');
    const f = await run('image', 'inspect', '--format', '{{.Architecture}} {{len .RootFS.Layers}}', 'accept/busybox:1');
    assert.match(f.stdout, /^\S+ 1\n$/);
    const generic = await run('inspect', '--format', '{{.Id}}', 'accept/busybox:1');
    assert.equal(generic.stdout.trim(), id, 'docker inspect probes containers (404) then images');
  });

  test('docker tag and docker history', async () => {
    assert.equal((await run('tag', 'accept/busybox:1', 'localhost:5000/accept/busybox:2')).code, 0);
    const images = await run('images', '--format', '{{.Repository}}:{{.Tag}}');
    assert.deepEqual(images.stdout.trim().split('\n').sort(), ['accept/busybox:1', 'localhost:5000/accept/busybox:2']);
    const history = await run('history', 'accept/busybox:1');
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n/);
    assert.match(history.stdout, new RegExp(`\\n${id.slice(7, 19)} +.* ago +[\\d.]+MB +Imported from -\\n`));
  });

  test('docker save -o, docker rmi, docker load -i: the same image ID comes back', async () => {
    const archive = join(daemon.root, 'x.tar');
    const save = await run('save', '-o', archive, 'accept/busybox:1');
    assert.equal(save.code, 0, save.stderr);
    const rmi = await run('rmi', 'accept/busybox:1', 'localhost:5000/accept/busybox:2');
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.match(rmi.stdout, /^Untagged: accept\/busybox:1\nUntagged: localhost:5000\/accept\/busybox:2\nDeleted: sha256:/);
    assert.equal((await run('images', '-q')).stdout, '');
    const load = await run('load', '-i', archive);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout, 'Loaded image: accept/busybox:1\n');
    assert.equal((await run('image', 'inspect', '--format', '{{.Id}}', 'accept/busybox:1')).stdout.trim(), id);
  });

  test('docker rmi of a missing image prints the daemon\'s message and exits 1', async () => {
    const r = await run('rmi', 'nothing:here');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error response from daemon: No such image: nothing:here/);
  });

  describe('archives shared with skopeo and umoci', { skip: toolAvailable('skopeo') && toolAvailable('umoci') ? false : 'skopeo or umoci missing (scripts/setup installs them)' }, () => {
    test('skopeo reads what berth saves, as docker-archive and as OCI archive', async () => {
      const archive = join(daemon.root, 'for-skopeo.tar');
      assert.equal((await run('save', '-o', archive, 'accept/busybox:1')).code, 0);
      const dockerArchive = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${archive}`], { encoding: 'utf8' })) as { Layers: string[]; Os: string };
      assert.equal(dockerArchive.Os, 'linux');
      assert.equal(dockerArchive.Layers.length, 1);
      const oci = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${archive}`], { encoding: 'utf8' })) as { Layers: string[] };
      assert.equal(oci.Layers.length, 1);
    });

    test('berth loads an OCI layout and a docker-archive written by skopeo', async () => {
      const source = join(daemon.root, 'for-skopeo.tar');
      const layout = join(daemon.root, 'skopeo-oci');
      execFileSync('skopeo', ['copy', '-q', `docker-archive:${source}`, `oci:${layout}:v1`]);
      const layoutTar = join(daemon.root, 'skopeo-oci.tar');
      execFileSync('tar', ['-C', layout, '-cf', layoutTar, '.']);
      const fromOci = await run('load', '-i', layoutTar);
      assert.equal(fromOci.code, 0, fromOci.stderr);
      assert.match(fromOci.stdout, /^Loaded image ID: sha256:[a-f0-9]{64}\n$/);

      const dockerArchive = join(daemon.root, 'skopeo-docker.tar');
      execFileSync('skopeo', ['copy', '-q', `docker-archive:${source}`, `docker-archive:${dockerArchive}:skopeo/busybox:copied`]);
      const fromDockerArchive = await run('load', '-i', dockerArchive);
      assert.equal(fromDockerArchive.code, 0, fromDockerArchive.stderr);
      assert.equal(fromDockerArchive.stdout, 'Loaded image: skopeo/busybox:copied\n');
    });

    test('berth loads an image umoci built', async () => {
      const layout = join(daemon.root, 'umoci-layout');
      const bundle = join(daemon.root, 'umoci-bundle');
      execFileSync('umoci', ['init', '--layout', layout]);
      execFileSync('umoci', ['new', '--image', `${layout}:v1`]);
      execFileSync('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
      execFileSync('sh', ['-c', `echo hello > ${join(bundle, 'rootfs', 'hello')}`]);
      execFileSync('umoci', ['repack', '--image', `${layout}:v1`, bundle]);
      execFileSync('umoci', ['config', '--image', `${layout}:v1`, '--config.cmd', '/hello']);
      const tarball = join(daemon.root, 'umoci.tar');
      execFileSync('tar', ['-C', layout, '-cf', tarball, '.']);
      const r = await run('load', '-i', tarball);
      assert.equal(r.code, 0, r.stderr);
      const loadedId = /Loaded image ID: (sha256:[a-f0-9]{64})/.exec(r.stdout)?.[1];
      assert.ok(loadedId, r.stdout);
      const cmd = await run('image', 'inspect', '--format', '{{json .Config.Cmd}}', loadedId);
      assert.equal(cmd.stdout.trim(), '["/hello"]');
    });
  });
});
