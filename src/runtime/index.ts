export { detectRuntimes, findExecutable, type RuntimeInfo, type RuntimeSelection, type RuntimeConfig } from './runtime-detect.js';
