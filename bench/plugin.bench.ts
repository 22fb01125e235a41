// `npm run bench -- plugin`: `docker run -d --network` on a network of netctl's Docker plugin
// against the same on a network of Docker's built-in bridge driver, one dockerd, in one test host
// with netctl's daemon as its network plugin (`--docker-plugin`), container start to first ping.
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import type { CallTimes } from '../src/api/plugin/server';
import { type BenchDaemon, importBusybox, startDockerd, startNetctl } from './daemons';
import { call, ok } from './http';
import { benchNamespace, removeNamespace } from './namespaces';
import { median, msSince, report } from './report';

/** Container starts measured on each network, in alternating order (NETCTL_BENCH_PLUGIN_STARTS for a quick look); warm-ups first, untimed. */
const STARTS = Number(process.env['NETCTL_BENCH_PLUGIN_STARTS'] ?? 30);
const WARM_UPS = 3;
/** Fewer starts are made when this runs out (a loaded machine), but never fewer than MIN_STARTS. */
const TIME_BUDGET_MS = 8 * 60_000;
const MIN_STARTS = Math.min(20, STARTS);
const PING_TRIES = 20;

/** One container start: Docker's create and start calls, then the first ping answered. */
interface Sample {
  create: number;
  start: number;
  ping: number;
  total: number;
  /** ms netctl spent answering the plugin calls of this start (all but those of removals). */
  pluginMs: number;
}

interface BenchNetwork {
  name: string;
  driver: string;
  /** A /24: the gateway is .1, containers get .10 onwards, a new address for each start. */
  prefix: string;
  samples: Sample[];
}

/** netctl's `GET /debug/calls` on its plugin socket. */
async function pluginCallTimes(pluginSocket: string): Promise<CallTimes> {
  const reply = await call(pluginSocket, 'GET', '/debug/calls');
  if (reply.status !== 200) throw new Error(`GET /debug/calls on the plugin socket: ${reply.status} ${reply.text}`);
  return JSON.parse(reply.text) as CallTimes;
}

/** The calls of a container's removal: they may come after the next start's first reading, so they are left out. */
const REMOVAL_CALLS = new Set(['NetworkDriver.Leave', 'NetworkDriver.DeleteEndpoint', 'NetworkDriver.RevokeExternalConnectivity']);

const startCallsMs = (times: CallTimes): number => Object.entries(times).reduce((sum, [method, t]) => (REMOVAL_CALLS.has(method) ? sum : sum + t.totalMs), 0);

/**
 * Pings from the test host, the networks' gateway side, with busybox's ping: one shell started
 * before anything is timed, a ping process per try (one per start when the container answers at once).
 */
class Pinger {
  private readonly shell: ChildProcess;
  private out = '';
  private waiting: { resolve(line: string): void; reject(error: Error): void } | undefined;

  constructor(host: string) {
    const script = `while read ip; do n=0; until /bin/busybox ping -c 1 -W 1 "$ip" >/dev/null 2>&1; do n=$((n+1)); [ $n -ge ${PING_TRIES} ] && break; done; echo $n; done`;
    this.shell = spawn('nsenter', [`--net=/run/netns/${host}`, '/bin/busybox', 'sh', '-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.shell.stdout!.on('data', (chunk: Buffer) => {
      this.out += chunk.toString('utf8');
      const end = this.out.indexOf('\n');
      if (end >= 0 && this.waiting) {
        const line = this.out.slice(0, end);
        this.out = this.out.slice(end + 1);
        this.waiting.resolve(line);
      }
    });
    this.shell.once('close', () => this.waiting?.reject(new Error('the pinger shell exited')));
  }

  /** Resolves once `ip` answered an echo request; rejects after PING_TRIES tries of a second. */
  async ping(ip: string): Promise<void> {
    const line = await new Promise<string>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.shell.stdin!.write(`${ip}\n`);
    });
    this.waiting = undefined;
    if (Number(line) >= PING_TRIES) throw new Error(`${ip} did not answer a ping in ${PING_TRIES} tries`);
  }

  close(): void {
    this.shell.kill('SIGKILL');
  }
}

async function startOne(docker: BenchDaemon, pinger: Pinger, network: BenchNetwork, image: string, index: number, pluginSocket: string | undefined): Promise<Sample> {
  const ip = `${network.prefix}.${10 + index}`;
  const name = `${network.name}-${index}`;
  const before = pluginSocket ? startCallsMs(await pluginCallTimes(pluginSocket)) : 0;
  const begin = process.hrtime.bigint();
  await ok(docker, 'POST', `/containers/create?name=${name}`, {
    Image: image,
    Cmd: ['sleep', '3600'],
    HostConfig: { NetworkMode: network.name },
    NetworkingConfig: { EndpointsConfig: { [network.name]: { IPAMConfig: { IPv4Address: ip } } } },
  });
  const create = msSince(begin);
  await ok(docker, 'POST', `/containers/${name}/start`);
  const start = msSince(begin) - create;
  await pinger.ping(ip);
  const total = msSince(begin);
  const pluginMs = pluginSocket ? startCallsMs(await pluginCallTimes(pluginSocket)) - before : 0;
  await ok(docker, 'DELETE', `/containers/${name}?force=1`);
  return { create, start, ping: total - create - start, total, pluginMs };
}

export async function run(): Promise<void> {
  const host = benchNamespace('pb');
  const plugin = `nctl-bench-${crypto.randomBytes(4).toString('hex')}`;
  const pluginSocket = `/run/docker/plugins/${plugin}.sock`;
  const daemons: BenchDaemon[] = [];
  let pinger: Pinger | undefined;
  const ours: BenchNetwork = { name: 'bench-plugin', driver: plugin, prefix: '10.95.0', samples: [] };
  const builtIn: BenchNetwork = { name: 'bench-bridge', driver: 'bridge', prefix: '10.96.0', samples: [] };
  let finalTimes: CallTimes = {};
  try {
    daemons.push(await startNetctl(host, ['--bridge', 'none', '--docker-plugin', plugin]));
    const docker = await startDockerd(host);
    daemons.unshift(docker); // stopped first: it may still call the plugin as it stops
    const image = importBusybox(docker);
    for (const network of [ours, builtIn]) {
      await ok(docker, 'POST', '/networks/create', { Name: network.name, Driver: network.driver, IPAM: { Config: [{ Subnet: `${network.prefix}.0/24`, Gateway: `${network.prefix}.1` }] } });
    }
    pinger = new Pinger(host);
    const deadline = Date.now() + TIME_BUDGET_MS;
    for (let i = 0; i < WARM_UPS + STARTS && (i < WARM_UPS + MIN_STARTS || Date.now() < deadline); i++) {
      // Alternating which goes first, so neither always follows the other's removal.
      for (const network of i % 2 === 0 ? [ours, builtIn] : [builtIn, ours]) {
        const sample = await startOne(docker, pinger, network, image, i, network === ours ? pluginSocket : undefined);
        if (i >= WARM_UPS) network.samples.push(sample);
      }
    }
    finalTimes = await pluginCallTimes(pluginSocket);
    for (const network of [ours, builtIn]) await ok(docker, 'DELETE', `/networks/${network.name}`);
  } finally {
    pinger?.close();
    for (const daemon of daemons) await daemon.stop();
    removeNamespace(host);
  }
  const n = ours.samples.length;
  const of = (network: BenchNetwork, part: keyof Sample): number => median(network.samples.map((s) => s[part]));
  const peer = (part: keyof Sample): { name: string; value: number } => ({ name: "dockerd's built-in bridge driver (same dockerd, same run)", value: of(builtIn, part) });
  report('plugin', `docker run -d to first ping (create + start + ping from the gateway), median of ${n}`, of(ours, 'total'), 'ms', 'lower', peer('total'));
  report('plugin', 'added by the plugin path over the built-in driver (goal ≤ 10%)', (of(ours, 'total') / of(builtIn, 'total') - 1) * 100, '%', 'lower');
  // Each round starts one container on each network: the difference within a round leaves out the machine's drift.
  report('plugin', 'median of the per-round differences, plugin minus built-in', median(ours.samples.map((s, i) => s.total - builtIn.samples[i]!.total)), 'ms', 'lower');
  report('plugin', 'container create median', of(ours, 'create'), 'ms', 'lower', peer('create'));
  report('plugin', 'container start median', of(ours, 'start'), 'ms', 'lower', peer('start'));
  report('plugin', 'start returned to first ping answered, median', of(ours, 'ping'), 'ms', 'lower', peer('ping'));
  report('plugin', "netctl's own time answering Docker's plugin calls per container start, median", of(ours, 'pluginMs'), 'ms', 'lower');
  for (const [method, { count, totalMs: ms }] of Object.entries(finalTimes).sort()) {
    report('plugin', `${method}: mean time answering (${count} calls, warm-ups and removals included)`, ms / count, 'ms', 'lower');
  }
}
