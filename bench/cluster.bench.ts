// `npm run bench -- cluster`: the gossip layer at 20 hosts (test hosts on one underlay bridge, etcd
// in a test host of its own), against serf (hashicorp memberlist's LAN profile, the layer Docker's
// networkdb builds on) in the same run and the same hosts, both encrypted with one 32-byte key:
// - idle gossip bytes each host sends (iptables counters on port 7946, headers included) and
//   members seen turning suspect while all are alive (false suspicions), over 60 s;
// - failure detection: kill -9 a member and cut its link; until every other one marks it dead;
// - dissemination: an entry written on one host until every other host has it (netctl: a table
//   entry through the daemon's cluster agent; serf: a user event, handler to handler).
// NETCTL_BENCH_CLUSTER_HOSTS and NETCTL_BENCH_CLUSTER_IDLE_S change the hosts (20) and the idle time (60 s).
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { startDaemon, request, type TestDaemon } from '../integration/helpers/daemon';
import { startEtcd } from '../integration/helpers/etcd';
import { createUnderlay, type UnderlayHost } from '../integration/helpers/underlay';
import { until } from '../test/helpers/until';
import { Cleanup } from './cleanup';
import { median, report } from './report';

const BENCH = 'cluster';
const HOSTS = Number(process.env['NETCTL_BENCH_CLUSTER_HOSTS'] ?? 20);
const IDLE_MS = Number(process.env['NETCTL_BENCH_CLUSTER_IDLE_S'] ?? 60) * 1000;
const KILLS = 3;
const WRITES = 20;
const CONVERGE_MS = 180_000;
const DETECT_BOUND_MS = 60_000;
const SERF = '/usr/bin/serf';
const NODE_SCRIPT = path.join(__dirname, 'cluster-node.js');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Bytes each host sends on the gossip port (UDP, and TCP either way), from a chain of its own. */
function countGossip(host: UnderlayHost): { read(): number; zero(): void } {
  const ipt = (...args: string[]): string => host.ns.run('iptables', '-w', ...args);
  ipt('-N', 'NCGOSSIP');
  ipt('-A', 'OUTPUT', '-j', 'NCGOSSIP');
  for (const match of [['-p', 'udp', '--sport', '7946'], ['-p', 'tcp', '--sport', '7946'], ['-p', 'tcp', '--dport', '7946']]) ipt('-A', 'NCGOSSIP', ...match, '-j', 'RETURN');
  return {
    read: () =>
      ipt('-L', 'NCGOSSIP', '-v', '-x', '-n')
        .split('\n')
        .slice(2)
        .reduce((sum, line) => sum + (Number(line.trim().split(/\s+/)[1]) || 0), 0),
    zero: () => void ipt('-Z', 'NCGOSSIP'),
  };
}

interface Idle {
  bytesPerHostPerSecond: number;
  suspicions: number;
}

/** Gossip bytes sent per host per second over the idle period, and suspicions raised meanwhile. */
async function idle(counters: ReturnType<typeof countGossip>[], suspicions: () => Promise<number>): Promise<Idle> {
  for (const c of counters) c.zero();
  const before = await suspicions();
  const start = Date.now();
  await sleep(IDLE_MS);
  const seconds = (Date.now() - start) / 1000;
  const sent = counters.map((c) => c.read());
  return { bytesPerHostPerSecond: sent.reduce((a, b) => a + b, 0) / sent.length / seconds, suspicions: (await suspicions()) - before };
}

// ---- netctl ----

interface Member {
  Name: string;
  State: string;
}

async function members(daemon: TestDaemon): Promise<Member[]> {
  const reply = await request(daemon.socketPath, 'GET', '/cluster/members');
  return reply.status === 200 ? reply.json<Member[]>() : [];
}

/** Polls every survivor until it lists `victim` as dead; resolves with the last one's ms after `from`. */
async function detectedBy(survivors: TestDaemon[], victim: string, from: number): Promise<number> {
  const times = await Promise.all(
    survivors.map(async (daemon) => {
      await until(`${victim} dead`, async () => (await members(daemon)).find((m) => m.Name === victim)?.State === 'dead', DETECT_BOUND_MS, 20);
      return Date.now() - from;
    }),
  );
  return Math.max(...times);
}

async function netctlRun(cleanup: Cleanup, hosts: UnderlayHost[], counters: ReturnType<typeof countGossip>[], etcdAddress: string, keyFile: string): Promise<{ idle: Idle; detection: number[] }> {
  const daemons: TestDaemon[] = [];
  // A few at a time: twenty daemons loading at once on two cores only slow each other.
  for (let i = 0; i < hosts.length; i += 5) {
    daemons.push(
      ...(await Promise.all(
        hosts.slice(i, i + 5).map((host, j) =>
          startDaemon(cleanup, { netns: host.ns.path, args: ['--bridge', 'none', '--log-level', 'warn', '--cluster-store', `etcd://${etcdAddress}:2379`, '--advertise-addr', host.address, '--node-name', nameOf('n', i + j), '--gossip-key', keyFile] }),
        ),
      )),
    );
  }
  await until(`${hosts.length} daemons alive to each other`, async () => (await Promise.all(daemons.map(members))).every((list) => list.filter((m) => m.State === 'alive').length === hosts.length), CONVERGE_MS, 500);
  const suspicions = async (): Promise<number> => (await Promise.all(daemons.map(async (d) => (await request(d.socketPath, 'GET', '/cluster')).json<{ Suspicions: number }>().Suspicions))).reduce((a, b) => a + b, 0);
  const quiet = await idle(counters, suspicions);
  const detection: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const index = daemons.length - 1;
    const victim = daemons.pop()!;
    victim.process.kill('SIGKILL');
    hosts[index]!.setLink(false);
    const from = Date.now();
    detection.push(await detectedBy(daemons, nameOf('n', index), from));
    await victim.exited;
  }
  await Promise.all(daemons.map((d) => d.stop()));
  for (const host of hosts) host.setLink(true);
  return { idle: quiet, detection };
}

const nameOf = (prefix: string, index: number): string => `${prefix}${String(index + 1).padStart(2, '0')}`;

/** Table-entry dissemination through the agent, one process per host (see cluster-node.ts). */
async function netctlDissemination(cleanup: Cleanup, hosts: UnderlayHost[], etcdAddress: string, keyFile: string): Promise<number[]> {
  const heard = new Map<string, Map<number, bigint>>();
  const nodes = hosts.map((host, index) => {
    const child = spawn('nsenter', [`--net=${host.ns.path}`, process.execPath, NODE_SCRIPT, nameOf('a', index), host.address, `http://${etcdAddress}:2379`, keyFile], { stdio: ['pipe', 'pipe', 'pipe'] });
    cleanup.teardown(() => stopChild(child));
    let ready = false;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const [word, key, ns] = line.split(' ');
      if (word === 'ready') ready = true;
      if (word === 'heard' && key && ns) {
        if (!heard.has(key)) heard.set(key, new Map());
        heard.get(key)!.set(index, BigInt(ns));
      }
    });
    return { child, isReady: () => ready };
  });
  await until('every agent ready', () => nodes.every((n) => n.isReady()), CONVERGE_MS, 200);
  // Everyone holds the network once each has heard every other's own entry.
  await until('every agent holding every member\'s entry', () => hosts.every((_, i) => hosts.every((__, j) => i === j || heard.get(`member-${nameOf('a', j)}`)?.has(i))), CONVERGE_MS, 200);
  const latencies: number[] = [];
  for (let w = 0; w < WRITES; w++) {
    const writer = w % hosts.length;
    const key = `write-${w}`;
    const start = process.hrtime.bigint();
    nodes[writer]!.child.stdin!.write(`put ${key}\n`);
    await until(`${key} everywhere`, () => (heard.get(key)?.size ?? 0) === hosts.length - 1, 30_000, 2);
    latencies.push(Number([...heard.get(key)!.values()].reduce((a, b) => (a > b ? a : b)) - start) / 1e6);
    await sleep(100);
  }
  await Promise.all(nodes.map((n) => stopChild(n.child)));
  return latencies;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

// ---- serf ----

/** Each agent's handler appends "user EVENT NS" lines (NS: CLOCK_REALTIME) to DIR/<its name>. */
function serfHandler(dir: string): string {
  const script = path.join(dir, 'handler.sh');
  fs.writeFileSync(script, `#!/bin/sh\nnow=$(date +%s%N)\n[ "$SERF_EVENT" = user ] && echo "user $SERF_USER_EVENT $now" >> "${dir}/$SERF_SELF_NAME"\nexit 0\n`, { mode: 0o755 });
  return script;
}

const serfLines = (dir: string, name: string): string[] => {
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

function serfAlive(host: UnderlayHost): Promise<number> {
  return new Promise((resolve) =>
    execFile('nsenter', [`--net=${host.ns.path}`, SERF, 'members', `-rpc-addr=${host.address}:7373`, '-status=alive'], { timeout: 5_000 }, (error, stdout) => resolve(error ? 0 : stdout.split('\n').filter(Boolean).length)),
  );
}

async function serfRun(cleanup: Cleanup, hosts: UnderlayHost[], counters: ReturnType<typeof countGossip>[], key: Buffer): Promise<{ idle: Idle; detection: number[]; dissemination: number[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-serf-'));
  cleanup.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const handler = serfHandler(dir);
  const logs: string[] = hosts.map(() => '');
  // When each agent logged a member failed, timed as the line arrives: serf hands member events to
  // handlers only after coalescing them for seconds, which is not failure detection.
  const failedAt = hosts.map(() => new Map<string, number>());
  const agents = hosts.map((host, index) => {
    const args = [`--net=${host.ns.path}`, SERF, 'agent', `-node=${nameOf('s', index)}`, `-bind=${host.address}:7946`, `-rpc-addr=${host.address}:7373`, `-encrypt=${key.toString('base64')}`, `-event-handler=${handler}`, '-log-level=info'];
    if (index > 0) args.push(`-retry-join=${hosts[0]!.address}:7946`, '-retry-interval=1s');
    const child = spawn('nsenter', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.teardown(() => stopChild(child));
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      logs[index] += text;
      for (const match of text.matchAll(/EventMemberFailed: (\S+)/g)) if (!failedAt[index]!.has(match[1]!)) failedAt[index]!.set(match[1]!, Date.now());
    });
    return child;
  });
  await until(`${hosts.length} serf agents alive`, async () => (await serfAlive(hosts[0]!)) === hosts.length, CONVERGE_MS, 500);
  // memberlist logs each suspicion it raises or hears: "Suspect NAME has failed" / "Marking NAME as failed, suspect timeout reached".
  const suspicions = async (): Promise<number> => logs.reduce((sum, log) => sum + (log.match(/Suspect \S+ has failed/g)?.length ?? 0), 0);
  const quiet = await idle(counters, suspicions);

  const dissemination: number[] = [];
  for (let w = 0; w < WRITES; w++) {
    const writer = w % hosts.length;
    const name = `write${w}`;
    execFileSync('nsenter', [`--net=${hosts[writer]!.ns.path}`, SERF, 'event', `-rpc-addr=${hosts[writer]!.address}:7373`, '-coalesce=false', name, 'x']);
    const at = (index: number): bigint | undefined => {
      const line = serfLines(dir, nameOf('s', index)).find((l) => l.startsWith(`user ${name} `));
      return line === undefined ? undefined : BigInt(line.split(' ')[2]!);
    };
    await until(`serf event ${name} everywhere`, () => hosts.every((_, i) => at(i) !== undefined), 30_000, 5);
    // Handler to handler: the writer's own handler runs as the others' do (a process per event).
    const others = hosts.map((_, i) => i).filter((i) => i !== writer).map((i) => at(i)!);
    dissemination.push(Number(others.reduce((a, b) => (a > b ? a : b)) - at(writer)!) / 1e6);
    await sleep(100);
  }

  const detection: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const index = agents.length - 1;
    const victim = agents.pop()!;
    const victimName = nameOf('s', index);
    victim.kill('SIGKILL');
    hosts[index]!.setLink(false);
    const from = Date.now();
    await until(`${victimName} failed everywhere`, () => agents.every((_, i) => failedAt[i]!.has(victimName)), DETECT_BOUND_MS, 20);
    detection.push(Math.max(...agents.map((_, i) => failedAt[i]!.get(victimName)!)) - from);
  }
  await Promise.all(agents.map(stopChild));
  for (const host of hosts) host.setLink(true);
  return { idle: quiet, detection, dissemination };
}

export async function run(): Promise<void> {
  if (!fs.existsSync(SERF)) throw new Error('serf is missing: run scripts/setup.sh (it installs the serf package)');
  const cleanup = new Cleanup();
  try {
    const underlay = createUnderlay(cleanup);
    const etcdHost = underlay.addHost();
    await startEtcd(cleanup, { netns: etcdHost.ns.path, host: etcdHost.address });
    const hosts = Array.from({ length: HOSTS }, () => underlay.addHost());
    const counters = hosts.map(countGossip);
    const key = crypto.randomBytes(32);
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-bench-key-'));
    cleanup.teardown(() => fs.rmSync(keyDir, { recursive: true, force: true }));
    const keyFile = path.join(keyDir, 'gossip.key');
    fs.writeFileSync(keyFile, key.toString('base64'), { mode: 0o600 });

    const ours = await netctlRun(cleanup, hosts, counters, etcdHost.address, keyFile);
    const spread = await netctlDissemination(cleanup, hosts, etcdHost.address, keyFile);
    const serf = await serfRun(cleanup, hosts, counters, key);

    const peer = (value: number) => ({ name: `serf ${hostsLabel()} (memberlist LAN profile)`, value });
    report(BENCH, `failure detection at ${HOSTS} hosts, median of ${KILLS} kills (goal < 3 s)`, median(ours.detection), 'ms', 'lower', peer(median(serf.detection)));
    report(BENCH, `failure detection at ${HOSTS} hosts, worst of ${KILLS}`, Math.max(...ours.detection), 'ms', 'lower', peer(Math.max(...serf.detection)));
    report(BENCH, `dissemination to ${HOSTS - 1} hosts, median of ${WRITES} (goal < 50 ms)`, median(spread), 'ms', 'lower', peer(median(serf.dissemination)));
    report(BENCH, `idle gossip bytes sent per host at ${HOSTS} (goal < 2 KB/s)`, ours.idle.bytesPerHostPerSecond, 'B/s', 'lower', peer(serf.idle.bytesPerHostPerSecond));
    report(BENCH, `false suspicions in ${IDLE_MS / 1000} s idle at ${HOSTS} (goal 0)`, ours.idle.suspicions, 'count', 'lower', peer(serf.idle.suspicions));
  } finally {
    await cleanup.run();
  }
}

const hostsLabel = (): string => `${HOSTS} agents`;
