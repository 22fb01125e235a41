// A real etcd (Debian's etcd-server, /usr/bin/etcd) for tests: on 127.0.0.1 with free client and
// peer ports, or in a test host of its own on an address of it (ports 2379/2380, free in a fresh
// namespace), a temporary data dir and a unique name, so every test can have its own. Stopped and
// its data dir removed in the test's teardown, also on failure; if the test process dies instead,
// etcd dies with it (PR_SET_PDEATHSIG through setpriv) and an exit hook removes what is left.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestEtcd {
  /** The client URL, e.g. 'http://127.0.0.1:40123'. */
  readonly endpoint: string;
  readonly dataDir: string;
  /** The pid of the running etcd (undefined while stopped). */
  readonly pid: number | undefined;
  /** Stops etcd gracefully (SIGTERM; SIGKILL after 5 s); resolves once it exited. No-op if stopped. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data dir; resolves once it is healthy. */
  start(): Promise<void>;
  /** stop() then start(): "etcd went down and came back". */
  restart(): Promise<void>;
  /**
   * Sends `signal` (default SIGKILL) to etcd. For a signal that ends it, resolves once it exited
   * (bounded); SIGSTOP/SIGCONT resolve at once (freeze/thaw: a hung, not a dead, etcd).
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface TestContext {
  teardown(fn: () => Promise<void> | void): void;
}

const ETCD = '/usr/bin/etcd';
const SETPRIV = '/usr/bin/setpriv';
const HEALTHY_WITHIN_MS = 20_000;
const EXIT_WITHIN_MS = 5_000;

// Whatever a test leaves behind when its process ends without teardown (uncaught error, timeout).
const running = new Set<ChildProcess>();
const dirs = new Set<string>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** Two distinct free ports, both held while the second is chosen. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function healthy(endpoint: string, netns: string | undefined): Promise<boolean> {
  // This process cannot reach into another namespace: curl asks from inside it.
  if (netns !== undefined) {
    return new Promise((resolve) =>
      execFile('nsenter', [`--net=${netns}`, 'curl', '-s', '-m', '1', `${endpoint}/health`], (error, stdout) => resolve(!error && /"health":\s*"true"/.test(stdout))),
    );
  }
  try {
    const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    return response.ok && ((await response.json()) as { health: string }).health === 'true';
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits for `child` to exit, SIGKILLing it after `ms`. */
async function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await gone;
  clearTimeout(timer);
}

/** Where etcd runs: a test host's namespace (its path) and an address of it that clients reach. */
export interface EtcdHost {
  netns: string;
  address: string;
}

/** Starts a fresh etcd for one test (or for a whole file, with a shared context); in `host` when given. */
export async function startEtcd(t: TestContext, host?: EtcdHost): Promise<TestEtcd> {
  hookExit();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-etcd-'));
  dirs.add(dir);
  const name = path.basename(dir);
  let ports = host ? [2379, 2380] : await freePorts(2);
  const address = host?.address ?? '127.0.0.1';
  let child: ChildProcess | undefined;
  let log = '';
  const endpointOf = (): string => `http://${address}:${ports[0]}`;

  const stop = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (!current || exited(current)) return;
    current.kill('SIGCONT'); // a frozen etcd cannot act on SIGTERM
    current.kill('SIGTERM');
    await waitExit(current, EXIT_WITHIN_MS);
  };

  const start = async (): Promise<void> => {
    if (child && !exited(child)) throw new Error('etcd is already running');
    const [clientPort, peerPort] = ports as [number, number];
    const args = [
      '--name', name,
      '--data-dir', path.join(dir, 'data'),
      '--listen-client-urls', `http://${address}:${clientPort}`,
      '--advertise-client-urls', `http://${address}:${clientPort}`,
      '--listen-peer-urls', `http://${address}:${peerPort}`,
      '--initial-advertise-peer-urls', `http://${address}:${peerPort}`,
      '--initial-cluster', `${name}=http://${address}:${peerPort}`,
      '--initial-cluster-token', name,
      '--log-level', 'error',
    ];
    // setpriv sets the parent-death signal and execs etcd: same pid, and it dies with us.
    const [direct, directArgs] = fs.existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', ETCD, ...args]] : [ETCD, args];
    // nsenter enters the namespace and execs the rest: still the same pid.
    const [file, argv] = host ? ['nsenter', [`--net=${host.netns}`, direct, ...directArgs]] : [direct, directArgs];
    log = '';
    const spawned = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = spawned;
    running.add(spawned);
    spawned.once('exit', () => running.delete(spawned));
    spawned.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    const deadline = Date.now() + HEALTHY_WITHIN_MS;
    while (!(await healthy(endpointOf(), host?.netns))) {
      if (exited(spawned)) throw new Error(`etcd exited (${spawned.exitCode ?? spawned.signalCode}) before it was healthy:\n${log}`);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`etcd was not healthy within ${HEALTHY_WITHIN_MS / 1000} s:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  t.teardown(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  });

  // Another process may take a port between choosing and binding it: then choose again (bounded).
  for (let tries = 1; ; tries++) {
    try {
      await start();
      break;
    } catch (error) {
      if (host || tries >= 3 || !/address already in use/.test((error as Error).message)) throw error;
      await stop();
      fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true });
      ports = await freePorts(2);
    }
  }

  return {
    endpoint: endpointOf(),
    dataDir: dir,
    get pid() {
      return child && !exited(child) ? child.pid : undefined;
    },
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      const current = child;
      if (!current || exited(current)) throw new Error('etcd is not running');
      current.kill(signal);
      if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGTSTP') return;
      if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') {
        await waitExit(current, EXIT_WITHIN_MS);
        child = undefined;
      }
    },
  };
}
