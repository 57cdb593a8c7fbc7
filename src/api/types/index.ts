/** Named shapes of the Docker Engine API 1.50, from the generated swagger types. */
import type { components } from './docker-engine.js';

export type Schemas = components['schemas'];
export type SystemInfo = Schemas['SystemInfo'];
export type EventMessage = Schemas['EventMessage'];
export type ErrorResponse = Schemas['ErrorResponse'];

/** SystemVersion with Component details as the API really carries them (string values). */
export type SystemVersion = Omit<Schemas['SystemVersion'], 'Components'> & {
  Components?: { Name: string; Version: string; Details?: Record<string, string> | null }[];
};
