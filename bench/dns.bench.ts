// `npm run bench -- dns`: A queries for a peer container's name, from inside a container's
// namespace, one query at a time for the RTT, then dnsperf for 10 s (100 queries in flight):
// netctl's embedded DNS, Docker's (dockerd in a test host) and aardvark-dns (started by netavark),
// each in its own test host, in one run; then the daemon's memory with 1,000 sandboxes.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type BenchDaemon, importBusybox, startDockerd, startNetctl } from './daemons';
import { call, ok } from './http';
import { benchNamespace, removeNamespace } from './namespaces';
import { report } from './report';

const exec = promisify(execFile);
const SECONDS = 10;
const SANDBOXES = 1000;
/** Enough single queries that the 99th percentile is the 100th slowest, not a handful of hiccups. */
const RTT_SAMPLES = 10_000;

interface DnsFigures {
  qps: number;
  /** dnsperf's average latency under load, ms. */
  loadedMs: number;
  p50: number;
  p99: number;
}


/** One UDP query at a time from inside `netns`, RTT_SAMPLES of them: RTT percentiles in ms. */
const RTT = `const s = require('dgram').createSocket('udp4'); const [server, name] = process.argv.slice(1);
const q = (id) => { const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]); };
const times = []; let i = 0; let start;
const next = () => { if (i === ${RTT_SAMPLES}) { times.sort((a, b) => a - b); console.log(JSON.stringify({ p50: times[${RTT_SAMPLES / 2}], p99: times[${RTT_SAMPLES * 0.99}] })); process.exit(0); }
  start = process.hrtime.bigint(); s.send(q(i++ & 0xffff), 53, server); };
s.on('message', () => { times.push(Number(process.hrtime.bigint() - start) / 1e6); next(); }); next();`;

async function measure(netns: string, server: string, name: string): Promise<DnsFigures> {
  const queries = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-dnsperf-')), 'queries');
  fs.writeFileSync(queries, `${name} A\n`);
  // The single-query round trip first: a server at rest, not one still digesting a flood.
  const rtt = JSON.parse((await exec('nsenter', [`--net=${netns}`, process.execPath, '-e', RTT, server, name])).stdout) as { p50: number; p99: number };
  const perf = (await exec('nsenter', [`--net=${netns}`, 'dnsperf', '-s', server, '-d', queries, '-l', String(SECONDS), '-q', '100', '-c', '1'])).stdout;
  fs.rmSync(path.dirname(queries), { recursive: true, force: true });
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(perf)?.[1]);
  const loadedMs = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(perf)?.[1]) * 1000;
  return { qps, loadedMs, ...rtt };
}

/** Two containers on a user-defined network; the client's namespace asks for the server's name. */
async function throughDaemon(daemon: BenchDaemon, image: string, keyOf: (inspect: { State: { Pid: number }; NetworkSettings: { SandboxKey: string } }) => string): Promise<DnsFigures> {
  await ok(daemon, 'POST', '/networks/create', { Name: 'dnsbench', Driver: 'bridge', IPAM: { Config: [{ Subnet: '10.98.0.0/24' }] } });
  try {
    for (const name of ['web', 'client']) {
      await ok(daemon, 'POST', `/containers/create?name=${name}`, { Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'dnsbench' } });
      await ok(daemon, 'POST', `/containers/${name}/start`);
    }
    const client = JSON.parse(await ok(daemon, 'GET', '/containers/client/json')) as { State: { Pid: number }; NetworkSettings: { SandboxKey: string } };
    return await measure(keyOf(client), '127.0.0.11', 'web');
  } finally {
    for (const name of ['web', 'client']) await call(daemon.socketPath, 'DELETE', `/v1.41/containers/${name}?force=1`);
    await call(daemon.socketPath, 'DELETE', '/v1.41/networks/dnsbench');
  }
}

/** aardvark-dns as podman runs it: started by netavark for a network with DNS, answering on the gateway. */
async function throughAardvark(): Promise<DnsFigures> {
  const host = benchNamespace('db-aardvark');
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-aardvark-'));
  const namespaces = ['web', 'client'].map((n) => benchNamespace(`db-av-${n}`));
  const options = (index: number, name: string): string =>
    JSON.stringify({
      container_id: String(index + 1).padStart(64, '0'),
      container_name: name,
      networks: { dnsbench: { interface_name: 'eth0', static_ips: [`10.99.0.${index + 2}`], aliases: [name] } },
      network_info: {
        dnsbench: { dns_enabled: true, driver: 'bridge', id: 'd'.repeat(64), internal: false, ipv6_enabled: false, name: 'dnsbench', network_interface: 'av-bench', ipam_options: { driver: 'host-local' }, subnets: [{ subnet: '10.99.0.0/24', gateway: '10.99.0.1' }] },
      },
    });
  const netavark = (command: string, index: number): void => {
    const name = ['web', 'client'][index]!;
    const result = spawnSync('nsenter', [`--net=/run/netns/${host}`, '/usr/lib/podman/netavark', '--config', workdir, '--aardvark-binary', '/usr/lib/podman/aardvark-dns', command, `/run/netns/${namespaces[index]}`], { input: options(index, name) });
    if (result.status !== 0) throw new Error(`netavark ${command} failed: ${String(result.stderr)}`);
  };
  try {
    spawnSync('nsenter', [`--net=/run/netns/${host}`, 'ip', 'link', 'set', 'lo', 'up']);
    netavark('setup', 0);
    netavark('setup', 1);
    return await measure(`/run/netns/${namespaces[1]}`, '10.99.0.1', 'web');
  } finally {
    // The last teardown stops aardvark-dns.
    for (const index of [0, 1]) {
      try {
        netavark('teardown', index);
      } catch {
        // Best effort: the namespaces go anyway.
      }
    }
    for (const name of [host, ...namespaces]) removeNamespace(name);
    fs.rmSync(workdir, { recursive: true, force: true });
  }
}

/**
 * With SANDBOXES containers running on one network (each a sandbox with DNS listeners): the
 * daemon's RSS, and the first container's queries for the second, which should cost what they
 * cost with two containers on the host.
 */
async function withManySandboxes(daemon: BenchDaemon): Promise<{ rss: number; figures: DnsFigures }> {
  await ok(daemon, 'POST', '/networks/create', { Name: 'many', Driver: 'bridge', IPAM: { Config: [{ Subnet: '10.100.0.0/20' }] } });
  const names = Array.from({ length: SANDBOXES }, (_, i) => `m${i}`);
  try {
    for (const name of names) {
      await ok(daemon, 'POST', `/containers/create?name=${name}`, { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'many' } });
      // A container holds a sandbox only while it runs.
      await ok(daemon, 'POST', `/containers/${name}/start`);
    }
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const first = JSON.parse(await ok(daemon, 'GET', `/containers/${names[0]}/json`)) as { NetworkSettings: { SandboxKey: string } };
    return { rss, figures: await measure(first.NetworkSettings.SandboxKey, '127.0.0.11', names[1]!) };
  } finally {
    for (const name of names) await call(daemon.socketPath, 'DELETE', `/v1.41/containers/${name}?force=1`);
    await call(daemon.socketPath, 'DELETE', '/v1.41/networks/many');
  }
}

export async function run(): Promise<void> {
  const netctlHost = benchNamespace('db-netctl');
  const dockerHost = benchNamespace('db-docker');
  for (const host of [netctlHost, dockerHost]) spawnSync('nsenter', [`--net=/run/netns/${host}`, 'ip', 'link', 'set', 'lo', 'up']);
  const netctl = await startNetctl(netctlHost);
  let docker: BenchDaemon | undefined;
  try {
    const ours = await throughDaemon(netctl, 'busybox', (c) => c.NetworkSettings.SandboxKey);
    const aardvark = await throughAardvark();
    docker = await startDockerd(dockerHost);
    const theirs = await throughDaemon(docker, importBusybox(docker), (c) => `/proc/${c.State.Pid}/ns/net`);
    const peers = [
      { name: "dockerd's embedded DNS", figures: theirs },
      { name: 'aardvark-dns (netavark)', figures: aardvark },
    ];
    for (const peer of peers) report('dns', `queries/s, ${SECONDS} s, 100 in flight (dnsperf)`, ours.qps, 'q/s', 'higher', { name: peer.name, value: peer.figures.qps });
    for (const peer of peers) report('dns', 'average latency under that load', ours.loadedMs, 'ms', 'lower', { name: peer.name, value: peer.figures.loadedMs });
    for (const peer of peers) report('dns', 'single-query RTT p50', ours.p50, 'ms', 'lower', { name: peer.name, value: peer.figures.p50 });
    for (const peer of peers) report('dns', 'single-query RTT p99', ours.p99, 'ms', 'lower', { name: peer.name, value: peer.figures.p99 });
    const many = await withManySandboxes(netctl);
    const withTwo = { name: 'netctl with 2 containers on the host (same run)' };
    report('dns', `queries/s with ${SANDBOXES} containers on the host (goal: as with 2)`, many.figures.qps, 'q/s', 'higher', { ...withTwo, value: ours.qps });
    report('dns', `single-query RTT p50 with ${SANDBOXES} containers on the host`, many.figures.p50, 'ms', 'lower', { ...withTwo, value: ours.p50 });
    report('dns', `daemon RSS with ${SANDBOXES} sandboxes (DNS listeners in each)`, many.rss, 'MiB', 'lower');
  } finally {
    await netctl.stop();
    await docker?.stop();
    removeNamespace(netctlHost);
    removeNamespace(dockerHost);
  }
}
