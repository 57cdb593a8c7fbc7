/** A private berthd with the busybox test image imported (through the docker CLI) under each tag given. */
import { join } from 'node:path';
import { startBerthd, type TestDaemon } from './berthd.js';
import { docker } from './cli.js';
import { makeBusyboxRootfs } from './images.js';

export async function startBusyboxDaemon(images: { tag: string; changes: string[] }[] = [{ tag: 'busybox', changes: ['CMD ["sh"]'] }]): Promise<TestDaemon> {
  const daemon = await startBerthd();
  try {
    const rootfs = makeBusyboxRootfs(join(daemon.root, 'busybox.tar'));
    for (const image of images) {
      const r = await docker(daemon.host, ['import', ...image.changes.flatMap((c) => ['-c', c]), rootfs, image.tag]);
      if (r.code !== 0) throw new Error(`docker import ${image.tag}: ${r.stderr}`);
    }
    return daemon;
  } catch (err) {
    await daemon.cleanup();
    throw err;
  }
}
