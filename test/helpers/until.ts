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

/** Polls `read` every 100 ms until `done` holds of its result or `ms` pass; resolves with the last result (the test asserts on it). */
export async function settled<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
