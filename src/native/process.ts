// Processes the daemon starts (iptables, container shims) through the addon's posix_spawn, off the
// event loop: child_process would fork the whole daemon for each (see addon/src/spawn.cc).
import { native } from './addon';

export interface ProcessResult {
  /** The exit code, or 128 + the signal that killed the process. */
  status: number;
  stdout: Buffer;
  stderr: Buffer;
}

export interface ProcessOptions {
  /** Written to its stdin, which is then closed (closed at once without input). */
  input?: string | Buffer;
  /** Its whole environment; this process's when absent. */
  env?: Record<string, string>;
  /** Killed (SIGKILL) when still running after this long; the promise then rejects with ETIMEDOUT. */
  timeoutMs?: number;
}

/** Environment entries as exec takes them ("KEY=value"). */
export const environmentEntries = (env: Record<string, string>): string[] => Object.entries(env).map(([key, value]) => `${key}=${value}`);

/**
 * Runs `file` (a path: PATH is not searched) with `argv` (argv[0] included) to its end; rejects
 * with an errno error when it cannot be started (ENOENT, EACCES...) or ran past its timeout
 * (ETIMEDOUT, with the message saying so).
 */
export function runProcess(file: string, argv: string[], options: ProcessOptions = {}): Promise<ProcessResult> {
  const input = typeof options.input === 'string' ? Buffer.from(options.input) : options.input;
  const env = options.env && environmentEntries(options.env);
  return new Promise((resolve, reject) =>
    native().runProcess(file, argv, input, env, options.timeoutMs, (error, result) => {
      if (error?.code === 'ETIMEDOUT') error.message = `${file} was still running after ${options.timeoutMs} ms: killed`;
      if (error) reject(error);
      else resolve(result!);
    }),
  );
}
