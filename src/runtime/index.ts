export { detectRuntimes, findExecutable, type RuntimeInfo, type RuntimeSelection, type RuntimeConfig } from './runtime-detect.js';
export { ConmonMonitor, type MonitorSpec } from './conmon-monitor.js';
