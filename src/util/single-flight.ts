// One run of a task per key at a time: whoever asks while it is under way shares its outcome
// (two starts of one container are one start).

export class SingleFlight<T = void> {
  private readonly underway = new Map<string, Promise<T>>();

  run(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.underway.get(key);
    if (running) return running;
    const result = task().finally(() => this.underway.delete(key));
    this.underway.set(key, result);
    return result;
  }
}
