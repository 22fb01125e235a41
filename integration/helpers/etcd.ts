// A real etcd (Debian's etcd-server) on 127.0.0.1 with free ports and a temporary data dir,
// stopped and removed after the test, also on failure. Each test gets its own.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestEtcd {
  endpoint: string;
  /** Stops etcd (SIGTERM, bounded wait, then SIGKILL). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    return response.ok && ((await response.json()) as { health: string }).health === 'true';
  } catch {
    return false;
  }
}

export async function startEtcd(t: { teardown(fn: () => Promise<void> | void): void }): Promise<TestEtcd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const name = path.basename(dir);
  let child: ChildProcess | undefined;
  let log = '';

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const start = async (): Promise<void> => {
    child = spawn(
      'etcd',
      [
        '--name', name,
        '--data-dir', path.join(dir, 'data'),
        '--listen-client-urls', endpoint,
        '--advertise-client-urls', endpoint,
        '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-cluster', `${name}=http://127.0.0.1:${peerPort}`,
        '--log-level', 'error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    const deadline = Date.now() + 15_000;
    while (!(await healthy(endpoint))) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}:\n${log}`);
      if (Date.now() > deadline) throw new Error(`etcd was not healthy within 15 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  t.teardown(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return { endpoint, stop, start };
}
