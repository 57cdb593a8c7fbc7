export { ContainerService, type ContainerServiceDeps, type WaitCondition } from './container-service.js';
export { ContainerStore } from './container-store.js';
export { toContainerInspect, toContainerSummary } from './container-json.js';
export { ownCapabilities } from './capabilities.js';
export type { ContainerRecord, ContainerConfigInput, HostConfigInput } from './container-record.js';
export { ExecService, type ExecConfig, type ExecRecord } from './exec-service.js';
