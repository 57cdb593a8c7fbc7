export { OverlaySnapshotter } from './overlay-snapshotter.js';
export { chainIdOf, chainIds, type LayerInfo, type LayerSource, type Mount, type Snapshotter } from './snapshotter.js';
