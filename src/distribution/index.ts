export { DistributionService, parsePlatform, type DistributionConfig, type DistributionDeps } from './distribution-service.js';
export { decodeRegistryAuth, type AuthConfig } from './auth-config.js';
export type { ProgressMessage, ProgressSink } from './progress.js';
