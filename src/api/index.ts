export { buildApi, type Api, type ApiBackends, type ApiOptions } from './server.js';
export { MAX_API_VERSION, MIN_API_VERSION, compareApiVersions } from './api-version.js';
export type { SystemBackend } from './routes/system-backend.js';
export { HijackRouter, type HijackContext, type HijackHandler } from './hijack.js';
export { checkTcpExposure, listen, type ListenAddress, parseListenAddress, type TlsSettings } from './listen.js';
export type { ImageBackend } from './routes/image-backend.js';
