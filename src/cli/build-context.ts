/**
 * The build context `berth build` sends: the directory as a tar without what .dockerignore
 * excludes (the Dockerfile and .dockerignore always go), plus a Dockerfile from elsewhere (-f
 * outside the context, or -f -) under a generated name, as the docker CLI does.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { posix, relative, resolve } from 'node:path';
import dockerignore, { type Ignore } from '@balena/dockerignore';
import { RootedFilesystem } from '../archive/rooted-path.js';
import { packPath } from '../archive/path-archive.js';
import { END_OF_ARCHIVE, encodeHeader, paddingFor } from '../archive/tar-header.js';
import { makeHeader } from '../archive/tar-writer.js';

// A CommonJS module whose module.exports is the factory; its typings describe it as a namespace.
const ignore = dockerignore as unknown as () => Ignore;

export interface PackedContext {
  tar: AsyncGenerator<Buffer>;
  /** The Dockerfile's name inside the context, for the `dockerfile` query parameter. */
  dockerfile: string;
}

export async function packContext(contextDir: string, dockerfileOption: string | undefined, dockerfileFromStdin: Buffer | undefined): Promise<PackedContext> {
  const root = resolve(contextDir);
  const rules = await readFile(posix.join(root, '.dockerignore'), 'utf8').catch(() => '');
  const matcher = ignore().add(rules.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#')));
  let dockerfile = 'Dockerfile';
  let extra: { name: string; data: Buffer } | undefined;
  if (dockerfileFromStdin) {
    dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
    extra = { name: dockerfile, data: dockerfileFromStdin };
  } else if (dockerfileOption) {
    const path = resolve(dockerfileOption);
    const inside = relative(root, path);
    if (inside.startsWith('..') || posix.isAbsolute(inside)) {
      dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
      extra = { name: dockerfile, data: await readFile(path) };
    } else {
      dockerfile = inside;
    }
  }
  const keep = new Set([dockerfile, '.dockerignore']);
  const include = (name: string) => {
    const path = name.replace(/^\.\//, '');
    if (path === '.' || keep.has(path)) return true;
    return !matcher.ignores(path);
  };
  async function* tar(): AsyncGenerator<Buffer> {
    for await (const chunk of packPath(new RootedFilesystem(root), '/', '.', { include })) {
      if (chunk === END_OF_ARCHIVE) break;
      yield chunk;
    }
    if (extra) {
      yield encodeHeader(makeHeader({ name: extra.name, data: extra.data, mode: 0o600 }));
      yield extra.data;
      yield paddingFor(extra.data.length);
    }
    yield END_OF_ARCHIVE;
  }
  return { tar: tar(), dockerfile };
}
