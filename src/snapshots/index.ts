export { OverlaySnapshotter } from './overlay-snapshotter.js';
export { chainIdOf, chainIds, type LayerInfo, type Mount, type Snapshotter } from './snapshotter.js';
