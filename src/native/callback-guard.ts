// What a callback the addon calls from the event loop (a socket's poll, a pool thread's
// completion) throws has no JavaScript caller to catch it: node-addon-api makes it a C++
// exception there, which terminates the process. So every such callback, and every other place
// where no caller is left to catch (a promise chain nobody awaits), goes through here: the error
// is logged and the daemon serves on. The addon catches too, as a second line (addon/src/js_call.h).
import type { Logger } from '../util/logger';

type Reporter = (error: unknown, where: string) => void;

const toStderr: Reporter = (error, where) => {
  process.stderr.write(`netctl: ${where} threw, ignored: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
};

let reporter: Reporter = toStderr;

/** Sends what guarded callbacks throw to `log` (the daemon's); stderr until then. */
export function reportUnhandledTo(log: Logger): void {
  reporter = (error, where) => log.error({ err: error, callback: where }, `${where} threw: ignored, serving on`);
}

/** Logs an error no caller is left to catch; never throws itself. */
export function reportUnhandled(error: unknown, where: string): void {
  try {
    reporter(error, where);
  } catch {
    // Logging failed too (a closed stderr): nothing is left to tell.
  }
}

/** `callback` as it is, except that what it throws is reported instead of thrown. */
export function guardCallback<A extends unknown[]>(where: string, callback: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      callback(...args);
    } catch (error) {
      reportUnhandled(error, where);
    }
  };
}
