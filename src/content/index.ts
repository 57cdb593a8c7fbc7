export { LocalContentStore, type ContentStore, type ContentReader, type ContentIngester, type BlobInfo } from './content-store.js';
export { digestOf, digestHex, isDigest, parseDigest, sha256Hasher, type Digest } from './digest.js';
