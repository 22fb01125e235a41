// `npm run bench -- network`: creating and removing a bridge network with an explicit subnet
// through the Docker Engine API, netctl against dockerd, each in its own test host, in one run.
import { type BenchDaemon, startDockerd, startNetctl } from './daemons';
import { call } from './http';
import { benchNamespace, removeNamespace } from './namespaces';
import { median, msSince, report } from './report';

const NETCTL_ROUNDS = 100;
const DOCKER_ROUNDS = 40;
const WARMUP = 3;
const MEMORY_NETWORKS = 50;
const SCALE = 200;

async function createNetwork(daemon: BenchDaemon, name: string, subnet: string): Promise<string> {
  const reply = await call(daemon.socketPath, 'POST', '/v1.41/networks/create', { Name: name, Driver: 'bridge', IPAM: { Config: [{ Subnet: subnet }] } });
  if (reply.status !== 201) throw new Error(`create ${name}: ${reply.status} ${reply.text}`);
  return (JSON.parse(reply.text) as { Id: string }).Id;
}

async function removeNetwork(daemon: BenchDaemon, id: string): Promise<void> {
  const reply = await call(daemon.socketPath, 'DELETE', `/v1.41/networks/${id}`);
  if (reply.status !== 204 && reply.status !== 200) throw new Error(`delete ${id}: ${reply.status} ${reply.text}`);
}

/** Create/delete latencies, one network at a time, after a warm-up. */
async function lifecycle(daemon: BenchDaemon, rounds: number): Promise<{ create: number[]; remove: number[] }> {
  const create: number[] = [];
  const remove: number[] = [];
  for (let i = 0; i < rounds + WARMUP; i++) {
    let start = process.hrtime.bigint();
    const id = await createNetwork(daemon, `bench${i}`, `10.${100 + (i >> 8)}.${i & 255}.0/24`);
    const created = msSince(start);
    start = process.hrtime.bigint();
    await removeNetwork(daemon, id);
    if (i >= WARMUP) {
      create.push(created);
      remove.push(msSince(start));
    }
  }
  return { create, remove };
}

/** RSS with one network, then with MEMORY_NETWORKS; the networks are removed afterwards. */
async function memory(daemon: BenchDaemon): Promise<{ one: number; many: number }> {
  const ids = [await createNetwork(daemon, 'mem0', '10.200.0.0/24')];
  const one = daemon.rssKiB() / 1024;
  for (let i = 1; i < MEMORY_NETWORKS; i++) ids.push(await createNetwork(daemon, `mem${i}`, `10.200.${i}.0/24`));
  const many = daemon.rssKiB() / 1024;
  for (const id of ids) await removeNetwork(daemon, id);
  return { one, many };
}

/** Creation latency as networks accumulate: the first ten against the last ten of SCALE networks. */
async function scaling(daemon: BenchDaemon): Promise<{ first: number; last: number }> {
  const ids: string[] = [];
  const latencies: number[] = [];
  for (let i = 0; i < SCALE; i++) {
    const start = process.hrtime.bigint();
    ids.push(await createNetwork(daemon, `scale${i}`, `10.${150 + (i >> 8)}.${i & 255}.0/24`));
    latencies.push(msSince(start));
  }
  for (const id of ids) await removeNetwork(daemon, id);
  return { first: median(latencies.slice(0, 10)), last: median(latencies.slice(-10)) };
}

const p90 = (samples: number[]): number => [...samples].sort((a, b) => a - b)[Math.floor(samples.length * 0.9)]!;

export async function run(): Promise<void> {
  const netctlHost = benchNamespace('nb-netctl');
  const dockerHost = benchNamespace('nb-docker');
  const netctl = await startNetctl(netctlHost);
  let docker: BenchDaemon | undefined;
  try {
    docker = await startDockerd(dockerHost);
    const ours = await lifecycle(netctl, NETCTL_ROUNDS);
    const theirs = await lifecycle(docker, DOCKER_ROUNDS);
    const peer = 'dockerd (Engine API, same host kind)';
    report('network', 'create median (POST /networks/create)', median(ours.create), 'ms', 'lower', { name: peer, value: median(theirs.create) });
    report('network', 'create p90', p90(ours.create), 'ms', 'lower', { name: peer, value: p90(theirs.create) });
    report('network', 'remove median (DELETE /networks/{id})', median(ours.remove), 'ms', 'lower', { name: peer, value: median(theirs.remove) });
    report('network', 'remove p90', p90(ours.remove), 'ms', 'lower', { name: peer, value: p90(theirs.remove) });
    const scale = await scaling(netctl);
    report('network', `create median, networks 1-10`, scale.first, 'ms', 'lower');
    report('network', `create median, networks ${SCALE - 9}-${SCALE} (goal ≤ 1.5× the first)`, scale.last, 'ms', 'lower');
    const ourMemory = await memory(netctl);
    const theirMemory = await memory(docker);
    report('network', 'daemon RSS with 1 network', ourMemory.one, 'MiB', 'lower', { name: 'dockerd + its containerd', value: theirMemory.one });
    report('network', `daemon RSS with ${MEMORY_NETWORKS} networks`, ourMemory.many, 'MiB', 'lower', { name: 'dockerd + its containerd', value: theirMemory.many });
  } finally {
    await netctl.stop();
    await docker?.stop();
    removeNamespace(netctlHost);
    removeNamespace(dockerHost);
  }
}
