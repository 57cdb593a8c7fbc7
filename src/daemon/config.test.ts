import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDaemonConfig, type DaemonConfig } from './config.js';

// A self-signed certificate and its key (EC P-256), made for these tests only.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBfjCCASWgAwIBAgIUQy2BbS7ak3kHzE/1KcCFaX2FQSIwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKYmVydGgtdGVzdDAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEw
MDAwMDBaMBUxEzARBgNVBAMMCmJlcnRoLXRlc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ=
-----END CERTIFICATE-----
`;

async function configOf(args: string[], files: Record<string, string> = {}): Promise<DaemonConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const withDir = args.map((a) => a.replace('DIR', dir));
    if (!files['daemon.json']) writeFileSync(join(dir, 'daemon.json'), '{}');
    const command = await loadDaemonConfig(['--config-file', join(dir, 'daemon.json'), ...withDir], { DOCKER_CERT_PATH: join(dir, 'certs') });
    assert.equal(command.kind, 'run');
    return (command as { config: DaemonConfig }).config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('seccomp-profile: the built-in profile by default, "unconfined" by choice, a file that is missing or invalid stops the daemon naming it', async () => {
  const builtin = await configOf([]);
  assert.notEqual(builtin.seccompProfile, 'unconfined');
  assert.equal((builtin.seccompProfile as { defaultAction: string }).defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal((await configOf(['--seccomp-profile', 'unconfined'])).seccompProfile, 'unconfined');
  await assert.rejects(configOf(['--seccomp-profile', 'DIR/none.json']), /opening seccomp profile \(.*\/none\.json\) failed: ENOENT/);
  await assert.rejects(configOf(['--seccomp-profile', 'DIR/bad.json'], { 'bad.json': '{' }), /invalid seccomp profile \(.*\/bad\.json\): Decoding seccomp profile failed/);
  const fromFile = await configOf([], { 'daemon.json': JSON.stringify({ 'seccomp-profile': 'unconfined' }) });
  assert.equal(fromFile.seccompProfile, 'unconfined');
});

test('default-cgroupns-mode: host or private, else refused with dockerd\'s words', async () => {
  assert.equal((await configOf([])).defaultCgroupnsMode, undefined);
  assert.equal((await configOf(['--default-cgroupns-mode', 'private'])).defaultCgroupnsMode, 'private');
  await assert.rejects(configOf(['--default-cgroupns-mode', 'shared']), /invalid default cgroup namespace \(shared\): use "host" or "private"/);
});

test('TLS: off unless asked; --tls alone verifies clients; files are read at start and named when missing; off loopback only with verification', async () => {
  assert.equal((await configOf(['-H', 'tcp://127.0.0.1:2375'])).tls, undefined);
  await assert.rejects(configOf(['-H', 'tcp://0.0.0.0:2375']), /refusing to listen on tcp:\/\/0\.0\.0\.0:2375: plain TCP/);
  // The defaults are in $DOCKER_CERT_PATH, as dockerd's.
  await assert.rejects(configOf(['--tls', '-H', 'tcp://127.0.0.1:2376']), /could not read the certificate \(--tlscert\) .*\/certs\/cert\.pem/);
  await assert.rejects(configOf(['--tlsverify', '--tlscert', 'DIR/c.pem', '--tlskey', 'DIR/c.pem', '-H', 'tcp://127.0.0.1:2376'], { 'c.pem': CERT }), /could not read the CA certificate \(--tlscacert\)/);
  await assert.rejects(configOf(['--tls', '--tlsverify=false', '-H', 'tcp://0.0.0.0:2376']), /TLS without client verification/);
  // --tls alone means verification (dockerd): 0.0.0.0 passes the exposure rule, then the files are needed.
  await assert.rejects(configOf(['--tls', '-H', 'tcp://0.0.0.0:2376']), /could not read the certificate/);
  await assert.rejects(
    configOf(['--tlsverify', '--tlscacert', 'DIR/c.pem', '--tlscert', 'DIR/c.pem', '--tlskey', 'DIR/c.pem', '-H', 'tcp://0.0.0.0:2376'], { 'c.pem': CERT }),
    /invalid TLS configuration \(.*c\.pem/,
  );
  await assert.rejects(configOf([], { 'daemon.json': JSON.stringify({ tlsverify: true, tlscert: '/nonexistent/cert.pem' }) }), /could not read the certificate \(--tlscert\) \/nonexistent\/cert\.pem/);
});
