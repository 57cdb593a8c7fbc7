/**
 * Docker's image reference grammar (distribution/reference): parse, normalise to the full form
 * (`busybox` -> `docker.io/library/busybox:latest`) and print the familiar form users type, with
 * Docker's messages for references it refuses.
 */
import { InvalidArgumentError } from '../lib/errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';

const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_DOMAIN = new RegExp(`^${DOMAIN}$`);
const HEX64 = /^[a-f0-9]{64}$/;
const NAME_TOTAL_LENGTH_MAX = 255;

export interface ImageReference {
  /** e.g. "docker.io" or "localhost:5000". */
  domain: string;
  /** e.g. "library/busybox" or "team/app". */
  path: string;
  tag?: string;
  digest?: string;
}

export class InvalidReferenceError extends InvalidArgumentError {
  constructor(detail?: string) {
    super(detail ? `invalid reference format: ${detail}` : 'invalid reference format', { code: 'BERTH_INVALID_REFERENCE' });
  }
}

function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let path: string;
  const first = slash === -1 ? '' : name.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = name;
  } else {
    domain = first;
    path = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  return { domain, path };
}

/** Parses what a user typed (`busybox`, `localhost:5000/a/b:1`, `x@sha256:...`) into a full reference. */
export function parseNormalizedReference(text: string): ImageReference {
  if (HEX64.test(text)) {
    throw new InvalidArgumentError(`invalid repository name repository name (${text}), cannot specify 64-byte hexadecimal strings`);
  }
  const match = REFERENCE.exec(text);
  if (!match) {
    // Docker names the one mistake people make most: capitals in the repository path.
    const lower = REFERENCE.exec(text.toLowerCase());
    if (lower) {
      const { domain, path } = splitDomain(text.slice(0, lower[1]!.length));
      const shown = domain === DEFAULT_DOMAIN ? path : `${domain}/${path}`;
      if (path !== path.toLowerCase()) throw new InvalidReferenceError(`repository name (${shown}) must be lowercase`);
    }
    throw new InvalidReferenceError();
  }
  const [, name, tag, digest] = match;
  if (name!.length > NAME_TOTAL_LENGTH_MAX) throw new InvalidReferenceError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const { domain, path } = splitDomain(name!);
  if (domain !== DEFAULT_DOMAIN && !ANCHORED_DOMAIN.test(domain)) throw new InvalidReferenceError();
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new InvalidArgumentError(`invalid reference format: unsupported digest ${digest} (berth stores sha256 only)`);
  }
  return { domain, path, tag, digest };
}

/** A reference with `latest` added when it names neither a tag nor a digest. */
export function withDefaultTag(ref: ImageReference): ImageReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** "docker.io/library/busybox" */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full form: "docker.io/library/busybox:latest", "localhost:5000/app@sha256:..." */
export function formatReference(ref: ImageReference): string {
  return repositoryName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** The repository as users write it: "busybox", "team/app", "localhost:5000/app". */
export function familiarRepository(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : ref.path;
}

/** The whole reference as users write it: "busybox:latest". */
export function familiarReference(ref: ImageReference): string {
  return familiarRepository(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** Validates a tag on its own (for `POST /images/{name}/tag?tag=`). */
export function assertValidTag(tag: string): void {
  if (!new RegExp(`^${TAG}$`).test(tag)) throw new InvalidReferenceError();
}
