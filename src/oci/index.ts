export { MediaTypes, MANIFEST_TYPES, INDEX_TYPES, ociLayerMediaType } from './media-types.js';
export * from './image-spec.js';
export { parseImageConfig, parseManifest, parseIndex } from './validate.js';
