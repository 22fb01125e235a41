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
