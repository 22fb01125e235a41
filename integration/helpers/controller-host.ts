// Drives a controller running in its own process inside a test host (controller-process.ts), so
// tests can use the library's sandbox and endpoint calls before the API has routes for them,
// and kill it mid-way to test restarts. Always stopped, its files and namespaces removed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { deleteNamespace } from '../../src/native/netns';

const PROCESS = path.resolve(__dirname, 'controller-process.js');

export class RemoteError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ControllerHost {
  root: string;
  runDir: string;
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  /** SIGKILL, as a crash would end it. */
  kill(): Promise<void>;
  /** Closes stdin (the stack closes cleanly) and waits for the exit. */
  stop(): Promise<void>;
}

/** Removes the sandbox namespaces left in `runDir/netns` and the shared mount netctl made of it. */
export function cleanupSandboxDir(runDir: string): void {
  // Sandboxes, and overlay networks' namespaces.
  for (const dir of ['netns', 'overlay'].map((name) => path.join(runDir, name))) {
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) deleteNamespace(path.join(dir, name));
    execFileSync('umount', [dir], { stdio: 'ignore' });
  }
}

/**
 * identity: run as an embedder with ownershipOf(identity)'s marks instead of the daemon's.
 * cluster: a host of a cluster on that etcd (see controller-process.ts).
 */
export async function startController(
  t: { teardown(fn: () => Promise<void> | void): void },
  options: { netns: string; root?: string; runDir?: string; identity?: number; cluster?: { etcd: string; node: string } },
): Promise<ControllerHost> {
  const base = options.root ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-ctl-'));
  const root = options.root ?? path.join(base!, 'root');
  const runDir = options.runDir ?? path.join(base!, 'run');
  fs.mkdirSync(root, { recursive: true });
  const child: ChildProcess = spawn('nsenter', [`--net=${options.netns}`, process.execPath, PROCESS, root, runDir, ...(options.identity === undefined ? [] : [String(options.identity)])], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.cluster ? { env: { ...process.env, NETCTL_TEST_CLUSTER: JSON.stringify(options.cluster) } } : {}),
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 0;
  let ready: () => void;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { ready?: boolean; id: number; result?: unknown; error?: { name: string; message: string } };
    if (message.ready) return ready();
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new RemoteError(message.error.name, message.error.message));
    else waiter?.resolve(message.result);
  });
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`controller process exited:\n${stderr}`));
    pending.clear();
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const kill = async (): Promise<void> => {
    child.kill('SIGKILL');
    await exited;
  };
  t.teardown(async () => {
    await stop();
    if (base) {
      cleanupSandboxDir(runDir);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 45_000);
  await Promise.race([readyPromise, exited.then(() => Promise.reject(new Error(`controller process exited before it was ready:\n${stderr}`)))]);
  clearTimeout(timeout);
  return {
    root,
    runDir,
    call: <T>(method: string, ...args: unknown[]) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.stdin!.write(`${JSON.stringify({ id, method, args })}\n`);
      }),
    kill,
    stop,
  };
}
