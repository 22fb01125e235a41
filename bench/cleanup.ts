// Teardowns for a benchmark, in the shape the integration helpers take (`t.teardown`): run in
// reverse order at the end, also after a failure.
export class Cleanup {
  private readonly steps: Array<() => Promise<void> | void> = [];
  teardown(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.reverse()) await Promise.resolve().then(step).catch(() => undefined);
  }
}
