// Undo steps of a multi-step operation, run newest first when a later step fails, so a failed
// operation leaves nothing behind.

export class Rollback {
  private readonly steps: Array<{ what: string; undo: () => Promise<unknown> | unknown }> = [];

  /** Registers how to undo the step just done; `what` names it in the error if the undo fails. */
  push(what: string, undo: () => Promise<unknown> | unknown): void {
    this.steps.push({ what, undo });
  }

  /**
   * Undoes every registered step, newest first, and keeps going past a failing undo: the cause
   * the caller rethrows matters more. Returns the undo failures for the caller to log.
   */
  async run(): Promise<Array<{ what: string; error: unknown }>> {
    const failures: Array<{ what: string; error: unknown }> = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.undo();
      } catch (error) {
        failures.push({ what: step.what, error });
      }
    }
    return failures;
  }
}
