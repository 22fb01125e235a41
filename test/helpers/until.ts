// Waiting on a condition instead of sleeping: a loaded machine makes every fixed sleep too short
// some day. The bound only ends a hang; it costs nothing while things go well.

/** Polls `condition` every `stepMs` until it holds; throws naming `what` after `ms`. */
export async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 15_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
