export { detectRuntimes, findConmon, findExecutable, type RuntimeInfo, type RuntimeSelection, type RuntimeConfig } from './runtime-detect.js';
export { ConmonMonitor, attachSocketPath, type MonitorSpec } from './conmon-monitor.js';
export { StdinRelay } from './conmon-stdin.js';
