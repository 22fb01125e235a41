// Daemons for benchmarks, each inside its own test host: netctl's and, as the peer, Docker's
// dockerd (with the containerd it starts for itself). Stopped and cleaned up on exit, also after
// a failure or Ctrl-C.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ensureBusyboxRoot } from '../src/launcher/rootfs';

export interface BenchDaemon {
  socketPath: string;
  pid: number;
  /** Resident memory of the daemon process (and of its own children, such as dockerd's containerd). */
  rssKiB(): number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** The command users run (its node flags included); dist/bench → bin. */
const NETCTL = path.resolve(__dirname, '..', '..', 'bin', 'netctl');

/** `netctl daemon` in the namespace `netns` (a name under /run/netns). */
export function startNetctl(netns: string, args: string[] = ['--bridge', 'none']): Promise<BenchDaemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-bench-'));
  const socketPath = path.join(dir, 'netctl.sock');
  return launch('netctl', dir, socketPath, ['nsenter', `--net=/run/netns/${netns}`, NETCTL, 'daemon', '--root', path.join(dir, 'root'), '--exec-root', path.join(dir, 'run'), '-H', `unix://${socketPath}`, '--log-level', 'warn', ...args]);
}

/**
 * dockerd as peers.md measures it: in its own namespace (its iptables rules stay there), with its
 * own data and exec roots, no default bridge. nsenter rather than `ip netns exec`, which would
 * remount /sys and hide the cgroup mounts dockerd needs.
 */
export function startDockerd(netns: string): Promise<BenchDaemon> {
  if (!fs.existsSync('/usr/sbin/dockerd')) throw new Error('dockerd is missing: run scripts/setup.sh (it installs docker.io)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-dockerd-'));
  const socketPath = path.join(dir, 'docker.sock');
  return launch('dockerd', dir, socketPath, [
    'nsenter', `--net=/run/netns/${netns}`, '/usr/sbin/dockerd',
    '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'docker.pid'),
    '-H', `unix://${socketPath}`, '--bridge', 'none', '--log-level', 'error',
  ]);
}

async function launch(what: string, dir: string, socketPath: string, argv: string[]): Promise<BenchDaemon> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    // dockerd leaves its data root's overlay/tmpfs mounts behind only if killed; unmount before removing.
    for (const mount of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m): m is string => !!m && m.startsWith(dir)).reverse()) {
      spawn('umount', ['-l', mount]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!(await pings(socketPath))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${what} did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // nsenter execs the daemon, so the child's PID is the daemon's.
  const pid = child.pid!;
  return { socketPath, pid, rssKiB: () => treeRss(pid), stop };
}

function pings(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path: '/_ping', timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

/** VmRSS of a process plus its descendants (dockerd's containerd). */
function treeRss(pid: number): number {
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop()!;
    try {
      const status = fs.readFileSync(`/proc/${current}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const children = fs.readFileSync(`/proc/${current}/task/${current}/children`, 'utf8').trim();
      if (children) pending.push(...children.split(/\s+/).map(Number));
    } catch {
      // Exited meanwhile.
    }
  }
  return total;
}

/** dockerd needs an image: the same busybox root netctl runs, imported once into its data root. */
export function importBusybox(docker: BenchDaemon): string {
  const root = ensureBusyboxRoot(fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-img-')));
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-dockercfg-'));
  const result = spawnSync('sh', ['-c', `tar -C '${root}' -c . | docker -H 'unix://${docker.socketPath}' import - netctl-bench:busybox`], { env: { ...process.env, DOCKER_CONFIG: config } });
  fs.rmSync(path.dirname(path.dirname(root)), { recursive: true, force: true });
  fs.rmSync(config, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`docker import failed: ${String(result.stderr)}`);
  return 'netctl-bench:busybox';
}
