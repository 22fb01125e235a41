// Processes the daemon starts (iptables, container shims, commands exec'd in containers) through
// the addon's posix_spawn, off the event loop: child_process would fork the whole daemon for each
// (see addon/src/spawn.cc).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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

/** Absolute paths of the tools found so far, by name; one that was not found is looked for again. */
const located = new Map<string, string>();

/**
 * The absolute path of `command` on PATH, looked up once (posix_spawn does not search PATH);
 * throws an ENOENT error naming the Debian package to install.
 */
export function locateTool(command: string, debianPackage: string): string {
  let file = located.get(command);
  if (file === undefined) {
    const search = process.env['PATH'] ?? '';
    file = search
      .split(':')
      .filter((dir) => path.isAbsolute(dir))
      .map((dir) => path.join(dir, command))
      .find((candidate) => {
        try {
          fs.accessSync(candidate, fs.constants.X_OK);
          return fs.statSync(candidate).isFile();
        } catch {
          return false;
        }
      });
    if (file === undefined) {
      const error: NodeJS.ErrnoException = new Error(`${command} not found on PATH (${search}): install ${debianPackage}`);
      error.code = 'ENOENT';
      throw error;
    }
    located.set(command, file);
  }
  return file;
}

/** A process whose output is read as it comes. */
export interface StreamingProcess {
  /** Its stdin, when started with stdinPipe. */
  stdin?: net.Socket;
  stdout: net.Socket;
  stderr: net.Socket;
  /** Its exit code (128 + the signal that killed it), once it has ended and let go of its output. */
  exited: Promise<number>;
}

/** How often an ended process's output having closed, its exit is checked for: soon, then less often. */
const REAP_DELAYS_MS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** Checks for the exit of `pid` with growing pauses (a process may close its output and run on). */
function reaped(pid: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = (attempt: number): void => {
      try {
        const status = native().reapIfExited(pid);
        if (status !== null) resolve(status);
        else setTimeout(() => check(attempt + 1), REAP_DELAYS_MS[Math.min(attempt, REAP_DELAYS_MS.length - 1)]);
      } catch (error) {
        reject(error as Error);
      }
    };
    check(0);
  });
}

/**
 * Starts `file` (a path) with `argv` (argv[0] included), stdin /dev/null (a pipe to write to with
 * stdinPipe), its stdout and stderr streamed; rejects with an errno error when it cannot be
 * started (ENOENT, EACCES...).
 */
export function spawnStreaming(file: string, argv: string[], options: { env?: Record<string, string>; stdinPipe?: boolean } = {}): Promise<StreamingProcess> {
  const env = options.env && environmentEntries(options.env);
  return new Promise((resolve, reject) =>
    native().spawnStreaming(file, argv, env, options.stdinPipe === true, (error, started) => {
      if (error) return reject(error);
      const { pid, stdin: inFd, stdout: outFd, stderr: errFd } = started!;
      // A write to a process that has ended fails with EPIPE: 'error', which must be heard.
      const stdin = inFd >= 0 ? new net.Socket({ fd: inFd, readable: false, writable: true }).on('error', () => undefined) : undefined;
      // Pipes on the event loop (libuv opens them non-blocking), not fs reads on the thread pool.
      const stdout = new net.Socket({ fd: outFd, readable: true, writable: false });
      const stderr = new net.Socket({ fd: errFd, readable: true, writable: false });
      // A read error ends that stream ('close' follows); unheard, it would crash the process.
      const closed = (socket: net.Socket): Promise<void> => new Promise((done) => socket.on('error', () => undefined).once('close', () => done()));
      resolve({ ...(stdin ? { stdin } : {}), stdout, stderr, exited: Promise.all([closed(stdout), closed(stderr)]).then(() => reaped(pid)) });
    }),
  );
}
