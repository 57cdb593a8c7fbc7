import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MissingParentError, NotADirectoryComponentError, RootedFilesystem, TooManyLinksError } from './rooted-path.js';

function withRoot(fn: (root: string, outside: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const base = mkdtempSync(join(tmpdir(), 'berth-rooted-'));
    try {
      const root = join(base, 'root');
      const outside = join(base, 'outside');
      mkdirSync(join(root, 'etc'), { recursive: true });
      mkdirSync(outside);
      writeFileSync(join(root, 'etc', 'passwd'), 'inside\n');
      writeFileSync(join(outside, 'passwd'), 'outside\n');
      await fn(root, outside);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
}

test('absolute and climbing links resolve inside the root', withRoot(async (root, outside) => {
  symlinkSync('/', join(root, 'escape'));
  symlinkSync('../../../../..', join(root, 'etc', 'climb'));
  const fs = new RootedFilesystem(root);
  for (const path of ['/escape/etc/passwd', '/etc/climb/etc/passwd', '/../../etc/passwd']) {
    const resolved = await fs.resolve(path, { followLast: true });
    assert.equal(resolved.containerPath, '/etc/passwd');
    assert.equal(resolved.hostPath, join(root, 'etc', 'passwd'));
  }
  const outsideName = await fs.resolve(`/escape${outside}/passwd`, { followLast: true }).catch((e: unknown) => e);
  assert.ok(outsideName instanceof MissingParentError, 'a host-only path does not exist inside');
}));

test('the last link is kept unless asked to follow it; a missing last part resolves without stats', withRoot(async (root) => {
  symlinkSync('/etc/passwd', join(root, 'link'));
  const fs = new RootedFilesystem(root);
  const kept = await fs.resolve('/link', { followLast: false });
  assert.equal(kept.containerPath, '/link');
  assert.ok(kept.stats?.isSymbolicLink());
  assert.equal((await fs.resolve('/link', { followLast: true })).containerPath, '/etc/passwd');
  assert.equal((await fs.resolve('/etc/new', { followLast: true })).stats, undefined);
  assert.ok((await fs.resolve('/etc/passwd/x', { followLast: true }).catch((e: unknown) => e)) instanceof NotADirectoryComponentError);
}));

test('mounts map container paths to their sources; link loops stop', withRoot(async (root, outside) => {
  symlinkSync('/loop', join(root, 'loop'));
  const fs = new RootedFilesystem(root, [{ destination: '/data', source: outside }]);
  assert.equal((await fs.resolve('/data/passwd', { followLast: true })).hostPath, join(outside, 'passwd'));
  assert.equal(fs.hostPathOf('/database'), join(root, 'database'));
  await assert.rejects(fs.resolve('/loop/x', { followLast: true }), TooManyLinksError);
}));
