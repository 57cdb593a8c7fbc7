export { SystemService, type EngineInventory, type SystemServiceOptions } from './system-service.js';
export { probeHost, detectCgroupMode, goArchitecture, type HostFacts, type CgroupMode } from './host-probe.js';
