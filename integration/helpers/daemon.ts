// Starts a real `netctl daemon` process inside a test host (a network namespace the test made),
// with its own root, run dir and socket, and always stops it and removes its files.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cleanupSandboxDir } from './controller-host';
import { killContainersUnder } from './shims';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

export interface TestDaemon {
  socketPath: string;
  root: string;
  runDir: string;
  process: ChildProcess;
  /** Settles when the daemon process has ended (its stderr drained). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stderr so far (pino JSON lines). */
  logs(): string;
  /** SIGTERM, wait (bounded) for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = unknown>(): T;
}

/** One API call; `timeoutMs`: how long the socket may stay idle (longer for calls that wait out etcd's retry window). */
export function request(socketPath: string, method: string, urlPath: string, body?: unknown, timeoutMs = 10_000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      { socketPath, method, path: urlPath, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface StartOptions {
  /** Path of the test host's namespace, e.g. /run/netns/nctl-abc. */
  netns: string;
  args?: string[];
  /** A command the daemon runs under (it execs the rest), e.g. ['prlimit', '--nofile=1024:8192']. */
  prefix?: string[];
  /** Reuse the state of an earlier daemon (restart tests). */
  root?: string;
  runDir?: string;
  /** Added to the daemon's environment (e.g. NETCTL_TEST_CRASH_AT). */
  env?: Record<string, string>;
  /** The CLI to run (another checkout's dist/src/cli/main.js, e.g. a release's); this one's by default. */
  cli?: string;
}

export async function startDaemon(t: { teardown(fn: () => Promise<void> | void): void }, options: StartOptions): Promise<TestDaemon> {
  const base = options.root ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-daemon-'));
  const root = options.root ?? path.join(base!, 'root');
  const runDir = options.runDir ?? path.join(base!, 'run');
  const socketPath = path.join(runDir, 'netctl.sock');
  const [command, ...prefixArgs] = [...(options.prefix ?? []), 'nsenter'];
  const child = spawn(command!, [...prefixArgs, `--net=${options.netns}`, process.execPath, options.cli ?? CLI, 'daemon', '--root', root, '--exec-root', runDir, '-H', `unix://${socketPath}`, ...(options.args ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // 'close', not 'exit': it comes after stderr is drained, so logs() has the last lines.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));

  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const { code } = await exited;
      clearTimeout(timer);
      return code;
    }
    return child.exitCode;
  };
  t.teardown(async () => {
    await stop();
    if (base) {
      killContainersUnder(root);
      cleanupSandboxDir(runDir);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  // Generous: on two busy cores a whole suite of daemons, etcds and iptables runs at once.
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`daemon exited with ${child.exitCode ?? child.signalCode} before it was ready:\n${stderr}`);
    try {
      if ((await request(socketPath, 'GET', '/_ping')).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`daemon did not answer /_ping within 45 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { socketPath, root, runDir, process: child, exited, logs: () => stderr, stop };
}
