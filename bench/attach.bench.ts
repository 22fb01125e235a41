// `npm run bench -- attach`: attaching container namespaces to one bridge network, and detaching
// them: netctl (`POST /networks/{id}/connect` on running containers made with --network none),
// Docker (`network connect` on the same kind of containers), the CNI bridge plugin with
// host-local and netavark (a process per call, in fresh namespaces), each in its own test host.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BenchDaemon, importBusybox, startDockerd, startNetctl } from './daemons';
import { call, expectOk } from './http';
import { benchNamespace, removeNamespace } from './namespaces';
import { median, msSince, report } from './report';

const NETCTL_COUNT = 500;
const PEER_COUNT = 100;

interface Timings {
  attach: number[];
  detach: number[];
  /** Daemon RSS (the daemon process alone) with every endpoint attached, in MiB. */
  rss?: number;
}

const ok = (daemon: BenchDaemon, method: string, urlPath: string, body?: unknown): Promise<string> => expectOk(daemon.socketPath, method, urlPath, body);

const ownRss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** Containers with --network none running `sleep`, then each connected and disconnected, timed. */
async function throughApi(daemon: BenchDaemon, image: string, subnet: string, count: number, leaveNone = false): Promise<Timings> {
  await ok(daemon, 'POST', '/networks/create', { Name: 'bench', Driver: 'bridge', IPAM: { Config: [{ Subnet: subnet }] } });
  const names = Array.from({ length: count }, (_, i) => `bench${i}`);
  for (const name of names) {
    await ok(daemon, 'POST', `/containers/create?name=${name}`, { Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
    await ok(daemon, 'POST', `/containers/${name}/start`);
    // Docker refuses to connect a container still on `none`: it leaves it first, untimed.
    if (leaveNone) await ok(daemon, 'POST', '/networks/none/disconnect', { Container: name });
  }
  const timings: Timings = { attach: [], detach: [] };
  try {
    for (const name of names) {
      const start = process.hrtime.bigint();
      await ok(daemon, 'POST', '/networks/bench/connect', { Container: name });
      timings.attach.push(msSince(start));
    }
    timings.rss = ownRss(daemon.pid);
    for (const name of names) {
      const start = process.hrtime.bigint();
      await ok(daemon, 'POST', '/networks/bench/disconnect', { Container: name });
      timings.detach.push(msSince(start));
    }
  } finally {
    for (const name of names) await call(daemon.socketPath, 'DELETE', `/v1.41/containers/${name}?force=1`);
    await call(daemon.socketPath, 'DELETE', '/v1.41/networks/bench');
  }
  return timings;
}

function peerInHost(kind: 'cni' | 'netavark', count: number): Promise<Timings> {
  const host = benchNamespace(`ab-${kind}`);
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), `nctl-${kind}-`));
  const child = spawn('nsenter', [`--net=/run/netns/${host}`, process.execPath, path.join(__dirname, 'attach-peer.js'), kind, String(count), workdir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('close', (code) => {
      removeNamespace(host);
      fs.rmSync(workdir, { recursive: true, force: true });
      if (code === 0) resolve(JSON.parse(out) as Timings);
      else reject(new Error(`${kind} runner exited ${code}: ${err}`));
    });
  });
}

const first10 = (samples: number[]): number => median(samples.slice(0, 10));
const last10 = (samples: number[]): number => median(samples.slice(-10));

export async function run(): Promise<void> {
  const netctlHost = benchNamespace('ab-netctl');
  const dockerHost = benchNamespace('ab-docker');
  const netctl = await startNetctl(netctlHost);
  let docker: BenchDaemon | undefined;
  try {
    const ours = await throughApi(netctl, 'busybox', '10.93.0.0/16', NETCTL_COUNT);
    const cni = await peerInHost('cni', PEER_COUNT);
    const netavark = await peerInHost('netavark', PEER_COUNT);
    docker = await startDockerd(dockerHost);
    const theirs = await throughApi(docker, importBusybox(docker), '10.94.0.0/16', PEER_COUNT, true);

    const peers = [
      { name: 'CNI bridge + host-local (a process per call)', timings: cni },
      { name: 'netavark setup/teardown', timings: netavark },
      { name: 'dockerd network connect/disconnect (Engine API)', timings: theirs },
    ];
    for (const peer of peers) report('attach', 'attach median, first 10', first10(ours.attach), 'ms', 'lower', { name: peer.name, value: first10(peer.timings.attach) });
    for (const peer of peers) report('attach', `attach median, attachments 1-${PEER_COUNT}`, median(ours.attach.slice(0, PEER_COUNT)), 'ms', 'lower', { name: peer.name, value: median(peer.timings.attach) });
    for (const peer of peers) report('attach', `detach median, ${PEER_COUNT} endpoints`, median(ours.detach.slice(-PEER_COUNT)), 'ms', 'lower', { name: peer.name, value: median(peer.timings.detach) });
    report('attach', `attach median, attachments ${NETCTL_COUNT - 9}-${NETCTL_COUNT} (goal ≤ 1.5× the first 10)`, last10(ours.attach), 'ms', 'lower');
    report('attach', `detach median, all ${NETCTL_COUNT}`, median(ours.detach), 'ms', 'lower');
    report('attach', `daemon RSS with ${NETCTL_COUNT} endpoints (daemon process alone)`, ours.rss!, 'MiB', 'lower', { name: `dockerd with ${PEER_COUNT} (dockerd process alone)`, value: theirs.rss! });
  } finally {
    await netctl.stop();
    await docker?.stop();
    removeNamespace(netctlHost);
    removeNamespace(dockerHost);
  }
}
