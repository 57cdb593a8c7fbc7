/**
 * Waiters keyed by container: whoever wakes a container's list calls each and deletes the key.
 * A waiter whose signal aborts (its client went away) leaves the list at once, so a list never
 * grows with clients that are gone.
 */
export type WaiterLists = Map<string, ((code: number) => void)[]>;

/** Adds a waiter for `id`; resolves with the code it is woken with, rejects when `signal` aborts. */
export function waitInList(lists: WaiterLists, id: string, signal?: AbortSignal): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      const list = lists.get(id);
      const index = list?.indexOf(wake) ?? -1;
      if (list && index !== -1) list.splice(index, 1);
      if (list?.length === 0) lists.delete(id);
      reject(signal!.reason);
    };
    const wake = (code: number): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve(code);
    };
    const list = lists.get(id) ?? [];
    list.push(wake);
    lists.set(id, list);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
