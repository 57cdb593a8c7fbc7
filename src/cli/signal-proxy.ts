/** --sig-proxy: signals the client receives are sent on to the container, as docker does. */
import type { EngineClient } from './engine-client.js';

const PROXIED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Starts forwarding; call the result to stop. */
export function proxySignals(client: EngineClient, id: string): () => void {
  const handlers = PROXIED.map((signal) => {
    const handler = () => void client.request('POST', `/containers/${id}/kill`, { query: { signal } }).catch(() => undefined);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
