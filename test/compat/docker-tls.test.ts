/**
 * berthd on TCP with TLS, as dockerd's --tlsverify: the real docker CLI with a client certificate
 * gets in (also on hijacked attach streams), a client without one, with one from another CA, or
 * speaking plain HTTP does not. Certificates come from a throwaway CA made with openssl.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { makeTempRoot, spawnBerthd, startBerthd, type TestDaemon } from '../helpers/berthd.js';
import { docker, dockerCliAvailable } from '../helpers/cli.js';
import { makeBusyboxRootfs, toolAvailable } from '../helpers/images.js';
import { freeLoopbackPort } from '../helpers/ports.js';

const ready = dockerCliAvailable && process.getuid?.() === 0 && toolAvailable('conmon') && toolAvailable('runc') && toolAvailable('openssl');

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA (`<name>-ca.pem`) and, signed by it, a server certificate for 127.0.0.1 and a client certificate. */
async function makeCertificates(dir: string, name: string): Promise<void> {
  const key = (file: string) => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', file]);
  key(`${name}-ca-key.pem`);
  openssl(dir, ['req', '-x509', '-new', '-key', `${name}-ca-key.pem`, '-out', `${name}-ca.pem`, '-days', '1', '-subj', `/CN=${name} test CA`]);
  for (const [role, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'], ['client', 'extendedKeyUsage=clientAuth\n']] as const) {
    key(`${name}-${role}-key.pem`);
    openssl(dir, ['req', '-new', '-key', `${name}-${role}-key.pem`, '-out', `${name}-${role}.csr`, '-subj', `/CN=${role}`]);
    await writeFile(join(dir, `${name}-${role}.ext`), ext);
    openssl(dir, ['x509', '-req', '-in', `${name}-${role}.csr`, '-CA', `${name}-ca.pem`, '-CAkey', `${name}-ca-key.pem`, '-CAcreateserial', '-out', `${name}-${role}.pem`, '-days', '1', '-extfile', `${name}-${role}.ext`]);
  }
}

describe('berthd with --tlsverify on TCP', { skip: ready ? false : 'needs root, the docker CLI, conmon, runc and openssl' }, () => {
  let daemon: TestDaemon;
  let certs: string;
  let tcp: string;
  before(async () => {
    certs = await makeTempRoot('berth-tls-');
    await makeCertificates(certs, 'good');
    await makeCertificates(certs, 'other');
    const port = await freeLoopbackPort();
    tcp = `tcp://127.0.0.1:${port}`;
    const pem = (file: string) => join(certs, file);
    daemon = await startBerthd({ extraArgs: ['-H', tcp, '--tlsverify', '--tlscacert', pem('good-ca.pem'), '--tlscert', pem('good-server.pem'), '--tlskey', pem('good-server-key.pem')] });
    const imported = await docker(daemon.host, ['import', '-c', 'CMD ["sh"]', makeBusyboxRootfs(join(daemon.root, 'busybox.tar')), 'busybox']);
    assert.equal(imported.code, 0, imported.stderr);
  });
  after(async () => {
    await daemon?.cleanup();
    if (certs) await rm(certs, { recursive: true, force: true });
  });
  const tlsDocker = (client: 'good' | 'other', args: string[], input?: string) =>
    docker(tcp, ['--tlsverify', '--tlscacert', join(certs, 'good-ca.pem'), '--tlscert', join(certs, `${client}-client.pem`), '--tlskey', join(certs, `${client}-client-key.pem`), ...args], { input });

  test('docker --tlsverify with a client certificate reaches the engine', async () => {
    const r = await tlsDocker('good', ['version', '--format', '{{.Server.APIVersion}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1.50\n');
  });

  test('docker run and exec over TLS: attached output, and stdin through the hijacked stream to its end', async () => {
    const hi = await tlsDocker('good', ['run', '--rm', 'busybox', 'echo', 'hi']);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, 'hi\n');
    const piped = await tlsDocker('good', ['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo after-eof'], 'piped in\n');
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'piped in\nafter-eof\n');
    const id = (await tlsDocker('good', ['run', '-d', 'busybox', 'sleep', '60'])).stdout.trim();
    try {
      const exec = await tlsDocker('good', ['exec', '-i', id, 'sh', '-c', 'cat; echo exec-done'], 'to exec\n');
      assert.equal(exec.stdout, 'to exec\nexec-done\n', exec.stderr);
    } finally {
      await tlsDocker('good', ['rm', '-f', id]);
    }
  });

  test('a client without a certificate, or with one from another CA, is refused in the handshake', async () => {
    const none = await docker(tcp, ['--tlsverify', '--tlscacert', join(certs, 'good-ca.pem'), 'version', '--format', '{{.Server.APIVersion}}']);
    assert.notEqual(none.code, 0);
    assert.equal(none.stdout.includes('1.50'), false);
    assert.match(none.stderr, /certificate required|bad certificate|handshake/i);
    const other = await tlsDocker('other', ['version', '--format', '{{.Server.APIVersion}}']);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /unknown certificate authority|bad certificate|certificate/i);
  });

  test('plain HTTP on the TLS port gets no answer from the engine', async () => {
    await assert.rejects(fetch(`${tcp.replace('tcp://', 'http://')}/_ping`));
    const plain = await docker(tcp, ['version', '--format', '{{.Server.APIVersion}}']);
    assert.notEqual(plain.code, 0);
    assert.equal(plain.stdout.includes('1.50'), false);
  });

  test('a raw TLS client without a certificate cannot read a byte of the API', async () => {
    const port = Number(tcp.split(':').pop());
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(join(certs, 'good-ca.pem')) }, () => socket.write('GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n'));
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('error', (err) => resolve(`error: ${err.message}`));
      socket.on('close', () => resolve(data === '' ? 'closed' : `answered: ${data}`));
    });
    assert.doesNotMatch(outcome, /^answered/);
  });
});

describe('berthd TLS settings it cannot use stop it', { skip: process.getuid?.() === 0 ? false : 'needs root' }, () => {
  test('a missing --tlscert file: exit 1 naming it; 0.0.0.0 without --tlsverify is refused', async () => {
    const root = await makeTempRoot();
    try {
      await writeFile(join(root, 'daemon.json'), '{}');
      const base = ['--data-root', join(root, 'd'), '--exec-root', join(root, 'r'), '--config-file', join(root, 'daemon.json')];
      const missing = spawnBerthd([...base, '-H', 'tcp://127.0.0.1:1', '--tlsverify', '--tlscacert', join(root, 'ca.pem'), '--tlscert', join(root, 'nope.pem'), '--tlskey', join(root, 'key.pem')]);
      assert.equal(await missing.exited, 1);
      assert.match(missing.output(), /invalid TLS configuration: could not read the certificate \(--tlscert\) .*nope\.pem/);
      const exposed = spawnBerthd([...base, '-H', 'tcp://0.0.0.0:2376', '--tls', '--tlsverify=false']);
      assert.equal(await exposed.exited, 1);
      assert.match(exposed.output(), /refusing to listen on tcp:\/\/0\.0\.0\.0:2376: TLS without client verification/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
