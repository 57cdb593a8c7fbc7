export { ImageService, type ImageUsage, type ImageServiceDeps, type DeleteItem, type ImportOptions, type LoadedImage } from './image-service.js';
export { ImageStore } from './image-store.js';
export type { ImageRecord } from './image-record.js';
export type { ImageSummary, ImageInspect, HistoryItem } from './image-json.js';
export { parseNormalizedReference, familiarReference, formatReference, withDefaultTag, type ImageReference } from './reference.js';
