// Runs async tasks one at a time, in arrival order: for work that reads state, computes and
// writes it back (an iptables table, a name reservation), where interleaving would lose updates.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    // The next task waits for this one whether it succeeds or fails.
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** A SerialQueue per key (a sandbox, a network): work on one key is serial, keys run side by side. */
export class KeyedSerialQueue {
  private readonly queues = new Map<string, SerialQueue>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = new SerialQueue()));
    return queue.run(task);
  }

  /** The key is gone for good (its sandbox deleted). */
  forget(key: string): void {
    this.queues.delete(key);
  }
}
