/**
 * Keeps a running container frozen while docker cp works on its filesystem (CVE-2018-15664, as
 * moby does since): berth resolves a path inside the root once and then uses it by name, so a
 * process still running could swap a directory for a symlink to the host in between. Copies that
 * overlap share one freeze; the last one out thaws. A container the user paused stays paused.
 */
import { ConflictError, NotFoundError } from '../lib/errors.js';

export interface FreezeControl {
  /** The container's status now ("running", "paused", ...), undefined once it is gone. */
  statusOf(id: string): string | undefined;
  /** Freezes (true) or thaws (false); ConflictError when the container is not in the state to. */
  setPaused(id: string, paused: boolean): Promise<void>;
}

interface Freeze {
  holders: number;
  /** Settles when the pause is done; false when there was nothing for us to pause. */
  paused: Promise<boolean>;
  /** Set once the last holder left: a new copy waits for the thaw, then freezes anew. */
  thawed?: Promise<void>;
}

export class FreezeHolds {
  private readonly freezes = new Map<string, Freeze>();

  constructor(private readonly control: FreezeControl) {}

  /**
   * Freezes the container if it runs (or joins a freeze already held), and returns the release
   * that thaws it once no copy holds it. Throws, leaving nothing frozen, when the pause fails.
   */
  async hold(id: string): Promise<() => Promise<void>> {
    let freeze = this.freezes.get(id);
    while (freeze?.thawed) {
      await freeze.thawed.catch(() => undefined);
      freeze = this.freezes.get(id);
    }
    if (!freeze) {
      if (this.control.statusOf(id) !== 'running') return async () => undefined;
      // Stopped or paused by its user meanwhile (Conflict): no freeze of ours to undo later.
      const paused = this.control.setPaused(id, true).then(() => true, (err: unknown) => {
        if (err instanceof ConflictError) return false;
        throw err;
      });
      freeze = { holders: 0, paused };
      this.freezes.set(id, freeze);
    }
    const held = freeze;
    held.holders++;
    try {
      await held.paused;
    } catch (err) {
      await this.release(id, held);
      throw err;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.release(id, held);
    };
  }

  private async release(id: string, freeze: Freeze): Promise<void> {
    if (--freeze.holders > 0) return;
    freeze.thawed = this.thaw(id, freeze).finally(() => {
      if (this.freezes.get(id) === freeze) this.freezes.delete(id);
    });
    await freeze.thawed;
  }

  private async thaw(id: string, freeze: Freeze): Promise<void> {
    const pausedByUs = await freeze.paused.catch(() => false);
    // Removed meanwhile (rm -f thaws before it kills): the copy's end has nothing to thaw.
    if (!pausedByUs || this.control.statusOf(id) === undefined) return;
    // Unpaused, stopped or killed meanwhile (stop and kill thaw first): nothing left to thaw.
    await this.control.setPaused(id, false).catch((err: unknown) => {
      if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
    });
  }
}
