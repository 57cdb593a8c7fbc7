/** The shape of a CLI command: its flags, and one function that does the work. */
import type { Readable, Writable } from 'node:stream';
import type { FlagSpecs, ParsedFlags } from '../lib/flag-parser.js';
import type { BuildInfo } from '../lib/build-info.js';
import type { Clock } from '../lib/clock.js';
import type { EngineClient } from './engine-client.js';

export interface CliContext {
  /** The engine client, created on first use (commands like `version` work without a daemon). */
  client(): EngineClient;
  /** The address the client talks to, e.g. unix:///run/berth/berth.sock. */
  hostUrl: string;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  build: BuildInfo;
  clock: Clock;
  debug: boolean;
}

export interface Command<S extends FlagSpecs = FlagSpecs> {
  name: string;
  /** Other names, used inside a command group ("image ls" for "images"). */
  aliases?: string[];
  /** A group ("image") dispatches to these instead of running itself. */
  subcommands?: Command[];
  usage: string;
  summary: string;
  flags: S;
  /** false: flags end at the first positional argument (run, exec). */
  interspersed?: boolean;
  run(parsed: ParsedFlags<S>, ctx: CliContext): Promise<number>;
}

/** Keeps each command's flag types while collecting commands in one list. */
export function defineCommand<S extends FlagSpecs>(command: Command<S>): Command {
  return command as unknown as Command;
}
