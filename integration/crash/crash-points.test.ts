// Every named step of every transaction, crashed at: a daemon in a test host is told to kill
// itself (SIGKILL) at one crash point, an operation drives it there, and a restarted daemon must
// leave a consistent host: every container and network inspectable and removable, no two
// endpoints on one address, no address, link, namespace, state directory, chain, gateway address
// or process without its record, and the operation retried succeeds. Then everything is removed
// and nothing may be left, in the kernel or in the store.
import test from 'ava';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CRASH_POINTS, type CrashPoint } from '../../src/util/crash-point';
import { DAEMON_OWNERSHIP } from '../../src/kernel/ownership';
import { NetlinkHandle } from '../../src/netlink';
import { type HttpReply, request, startDaemon, type TestDaemon } from '../helpers/daemon';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';
import { shimPids } from '../helpers/shims';

const NETCTL_LINK_GROUP = DAEMON_OWNERSHIP.linkGroup;

interface Step {
  method: string;
  path: string;
  body?: unknown;
}

interface Scenario {
  name: string;
  /** Run in the test host before the daemon starts. */
  host?: (ns: TestNamespace) => void;
  setup: Step[];
  /** The operation that reaches the crash points. */
  operation: Step;
  /** Statuses the operation may answer when retried after the restart (it may have completed before the crash). */
  retry: number[];
  points: CrashPoint[];
}

const SUBNET = '10.97.0.0/24';
const GATEWAY_PROTOCOL = DAEMON_OWNERSHIP.addressProtocol;
const network = (name: string, extra: Record<string, unknown> = {}): Step => ({ method: 'POST', path: '/networks/create', body: { Name: name, IPAM: { Config: [{ Subnet: SUBNET }] }, ...extra } });
const container = (name: string, networkName: string, extra: Record<string, unknown> = {}): Step => ({
  method: 'POST',
  path: `/containers/create?name=${name}`,
  body: { Image: 'busybox', Cmd: ['sleep', '300'], HostConfig: { NetworkMode: networkName, ...extra } },
});
const start = (name: string): Step => ({ method: 'POST', path: `/containers/${name}/start` });

/** A tarball of a directory with one text file: ASCII through and through, so it goes as a string body. */
function asciiTarball(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-crash-img-'));
  try {
    fs.mkdirSync(path.join(dir, 'root'));
    fs.writeFileSync(path.join(dir, 'root', 'marker'), 'crash\n');
    const tar = execFileSync('tar', ['-C', path.join(dir, 'root'), '--owner=0', '--group=0', '--numeric-owner', '-c', '.']);
    if (tar.some((byte) => byte > 0x7f)) throw new Error('the tarball is not ASCII');
    return tar.toString('latin1');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const importImage = (name: string): Step => ({ method: 'POST', path: `/images/create?fromSrc=-&repo=${name}`, body: asciiTarball() });

const SCENARIOS: Scenario[] = [
  {
    // A second import under the name: the tag moves from the first image.
    name: 'image import',
    setup: [importImage('img:1')],
    operation: importImage('img:1'),
    retry: [200],
    points: ['image-import:described', 'image-import:in-place'],
  },
  {
    name: 'image rm',
    setup: [importImage('img:1')],
    operation: { method: 'DELETE', path: '/images/img:1' },
    retry: [200, 404],
    points: ['image-rm:renamed-away'],
  },
  {
    name: 'network create',
    setup: [],
    operation: network('n1'),
    retry: [201],
    points: ['network-create:pools-allocated', 'bridge-create:bridge-made', 'bridge-create:gateway-added', 'bridge-create:rules-applied', 'network-create:driver-done'],
  },
  {
    name: "network create on an admin's bridge",
    host: (ns) => ns.run('ip', 'link', 'add', 'br-admin', 'type', 'bridge'),
    setup: [],
    operation: network('n1', { Options: { 'com.docker.network.bridge.name': 'br-admin' } }),
    retry: [201],
    points: ['bridge-create:gateway-added', 'bridge-create:rules-applied'],
  },
  {
    name: 'macvlan network create',
    setup: [],
    operation: network('m1', { Driver: 'macvlan', Internal: true }),
    retry: [201],
    points: ['macvlan-create:parent-made', 'network-create:driver-done'],
  },
  {
    name: 'network rm',
    setup: [network('n1')],
    operation: { method: 'DELETE', path: '/networks/n1' },
    retry: [204, 404],
    points: ['network-delete:driver-done', 'network-delete:record-deleted'],
  },
  {
    name: "network rm on an admin's bridge",
    host: (ns) => ns.run('ip', 'link', 'add', 'br-admin', 'type', 'bridge'),
    setup: [network('n1', { Options: { 'com.docker.network.bridge.name': 'br-admin' } })],
    operation: { method: 'DELETE', path: '/networks/n1' },
    retry: [204, 404],
    points: ['network-delete:driver-done', 'network-delete:record-deleted'],
  },
  {
    name: 'macvlan network rm',
    setup: [network('m1', { Driver: 'macvlan', Internal: true })],
    operation: { method: 'DELETE', path: '/networks/m1' },
    retry: [204, 404],
    points: ['network-delete:driver-done', 'network-delete:record-deleted'],
  },
  {
    name: 'container create',
    setup: [network('n1')],
    operation: container('c1', 'n1'),
    retry: [201],
    points: ['container-create:state-dir-made'],
  },
  {
    // The start joins the container's network (a created container holds none).
    name: 'container start',
    setup: [network('n1'), container('c1', 'n1')],
    operation: start('c1'),
    retry: [204, 304],
    points: ['sandbox-create:namespace-made', 'connect:addresses-allocated', 'bridge-join:veth-made', 'connect:joined', 'connect:configured', 'container-start:networked'],
  },
  {
    name: 'container start on macvlan',
    setup: [network('m1', { Driver: 'macvlan', Internal: true }), container('c1', 'm1')],
    operation: start('c1'),
    retry: [204, 304],
    points: ['connect:joined', 'connect:configured'],
  },
  {
    // The stop releases the container's network: ports, endpoint, sandbox.
    name: 'container stop',
    setup: [network('n1'), container('c1', 'n1', { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }), start('c1')],
    operation: { method: 'POST', path: '/containers/c1/stop?t=1' },
    retry: [204, 304],
    points: ['disconnect:left', 'disconnect:record-deleted', 'sandbox-delete:endpoints-gone', 'sandbox-delete:namespace-gone'],
  },
  {
    name: 'container start with a published port',
    setup: [network('n1'), container('c1', 'n1', { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } })],
    operation: start('c1'),
    retry: [204, 304],
    points: ['publish:rules-applied', 'container-start:ports-published', 'container-start:shim-started'],
  },
  {
    name: 'network connect',
    setup: [network('n1'), { ...network('n2'), body: { Name: 'n2', IPAM: { Config: [{ Subnet: '10.96.0.0/24' }] } } }, container('c1', 'n1'), start('c1')],
    operation: { method: 'POST', path: '/networks/n2/connect', body: { Container: 'c1' } },
    retry: [200, 403],
    points: ['connect:addresses-allocated', 'bridge-join:veth-made', 'connect:joined', 'connect:configured'],
  },
  {
    name: 'network disconnect',
    setup: [network('n1'), { ...network('n2'), body: { Name: 'n2', IPAM: { Config: [{ Subnet: '10.96.0.0/24' }] } } }, container('c1', 'n1'), start('c1'), { method: 'POST', path: '/networks/n2/connect', body: { Container: 'c1' } }],
    operation: { method: 'POST', path: '/networks/n2/disconnect', body: { Container: 'c1' } },
    retry: [200, 403],
    points: ['disconnect:left', 'disconnect:record-deleted'],
  },
  {
    name: 'container rm -f',
    setup: [network('n1'), container('c1', 'n1', { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }), start('c1')],
    operation: { method: 'DELETE', path: '/containers/c1?force=1' },
    retry: [204, 404],
    // The kill's exit releases the network before the removal goes on.
    points: ['disconnect:left', 'disconnect:record-deleted', 'sandbox-delete:endpoints-gone', 'sandbox-delete:namespace-gone', 'container-rm:process-gone', 'container-rm:record-deleted'],
  },
];

/** Two at a time: each run starts three daemons, and the suite runs on two loaded cores. */
let running = 0;
const waiting: Array<() => void> = [];
async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

async function call(daemon: TestDaemon, step: Step): Promise<HttpReply> {
  return request(daemon.socketPath, step.method, step.path, step.body);
}

async function must(daemon: TestDaemon, step: Step, statuses = [200, 201, 204]): Promise<HttpReply> {
  const reply = await call(daemon, step);
  if (!statuses.includes(reply.status)) throw new Error(`${step.method} ${step.path} answered ${reply.status}: ${reply.text}`);
  return reply;
}

interface NetworkJson {
  Id: string;
  Name: string;
  Options: Record<string, string>;
  IPAM: { Config: Array<{ Gateway?: string; Subnet: string }> };
  Containers: Record<string, { EndpointID: string; IPv4Address: string }>;
}
interface ImageJson {
  Id: string;
  RepoTags: string[];
}
interface ContainerJson {
  Id: string;
  State: { Running: boolean; Pid: number };
  NetworkSettings: { SandboxKey: string };
}

/** What the daemon lists, each inspected (inspect must work for all of them). */
async function listed(daemon: TestDaemon): Promise<{ networks: NetworkJson[]; containers: ContainerJson[]; images: ImageJson[] }> {
  const networks: NetworkJson[] = [];
  for (const { Id } of (await must(daemon, { method: 'GET', path: '/networks' })).json<Array<{ Id: string }>>()) networks.push((await must(daemon, { method: 'GET', path: `/networks/${Id}` })).json<NetworkJson>());
  const containers: ContainerJson[] = [];
  for (const { Id } of (await must(daemon, { method: 'GET', path: '/containers/json?all=1' })).json<Array<{ Id: string }>>()) containers.push((await must(daemon, { method: 'GET', path: `/containers/${Id}/json` })).json<ContainerJson>());
  const images: ImageJson[] = [];
  for (const { Id } of (await must(daemon, { method: 'GET', path: '/images/json' })).json<Array<{ Id: string }>>()) images.push((await must(daemon, { method: 'GET', path: `/images/${Id}/json` })).json<ImageJson>());
  return { networks, containers, images };
}

interface IpLink {
  ifname: string;
  group?: string;
  linkinfo?: { info_kind?: string };
}

/** The kernel and the files agree with what the daemon lists: nothing without its record. */
async function checkNothingUnowned(t: { deepEqual(a: unknown, b: unknown, m?: string): void; true(v: boolean, m?: string): void }, ns: TestNamespace, daemon: TestDaemon, state: { networks: NetworkJson[]; containers: ContainerJson[]; images: ImageJson[] }): Promise<void> {
  const endpoints = state.networks.flatMap((n) => Object.values(n.Containers));
  const addresses = endpoints.map((e) => e.IPv4Address).filter(Boolean);
  t.deepEqual([...new Set(addresses)].sort(), [...addresses].sort(), 'no two endpoints share an address');

  const bridges = state.networks.filter((n) => n.Options['com.docker.network.bridge.name'] !== undefined || n.IPAM.Config.length > 0).map((n) => n.Options['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
  // A kernel without the dummy driver gets a veth pair as a macvlan network's own parent.
  const macvlanParents = state.networks.flatMap((n) => [`dm-${n.Id.slice(0, 12)}`, `dp-${n.Id.slice(0, 12)}`]);
  const veths = endpoints.map((e) => `veth${e.EndpointID.slice(0, 11)}`);
  const ours = ns.json<IpLink[]>('ip', '-d', 'link', 'show').filter((l) => l.group === String(NETCTL_LINK_GROUP)).map((l) => l.ifname);
  t.deepEqual(ours.filter((name) => ![...bridges, ...macvlanParents, ...veths].includes(name)), [], "no link of netctl's without its network or endpoint");


  const gateways = new Set(state.networks.flatMap((n) => n.IPAM.Config.map((c) => c.Gateway)));
  const netlink = NetlinkHandle.open({ netns: ns.path });
  try {
    const marked = (await netlink.addrList()).filter((a) => a.protocol === GATEWAY_PROTOCOL).map((a) => a.ip);
    t.deepEqual(marked.filter((a) => !gateways.has(a)), [], 'no gateway address without its network');
  } finally {
    netlink.close();
  }

  const netnsDir = path.join(daemon.runDir, 'netns');
  const keys = new Set(state.containers.map((c) => c.NetworkSettings.SandboxKey));
  const namespaces = fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir).map((name) => path.join(netnsDir, name)) : [];
  t.deepEqual(namespaces.filter((key) => !keys.has(key)), [], 'no namespace without its sandbox');

  const ids = new Set(state.containers.map((c) => c.Id));
  const containersDir = path.join(daemon.root, 'containers');
  const dirs = fs.existsSync(containersDir) ? fs.readdirSync(containersDir) : [];
  t.deepEqual(dirs.filter((id) => !ids.has(id)), [], 'no state directory without its container');

  const chains = [...new Set(ns.run('iptables-save').split('\n').flatMap((line) => /^:NETCTL-[NDM]-([0-9a-f]{12}) /.exec(line)?.[1] ?? []))];
  const networkIds = new Set(state.networks.map((n) => n.Id.slice(0, 12)));
  t.deepEqual(chains.filter((id) => !networkIds.has(id)), [], 'no chain without its network');

  const imagesDir = path.join(daemon.root, 'images', 'imported');
  const imageIds = new Set(state.images.map((i) => i.Id.replace(/^sha256:/, '')));
  t.deepEqual((fs.existsSync(imagesDir) ? fs.readdirSync(imagesDir) : []).filter((name) => !imageIds.has(name)), [], 'no image directory without its image');
  const tags = state.images.flatMap((i) => i.RepoTags);
  t.deepEqual([...new Set(tags)].sort(), [...tags].sort(), 'no tag on two images');

  const running = new Set(state.containers.filter((c) => c.State.Running).map((c) => c.Id));
  const shims: string[] = [];
  shimPids((stateDir) => stateDir.startsWith(`${daemon.root}/`) && shims.push(path.basename(stateDir)) > 0);
  t.deepEqual(shims.filter((id) => !running.has(id)), [], 'no shim of a container that does not run');
  for (const c of state.containers.filter((c) => c.State.Running)) t.true(fs.existsSync(`/proc/${c.State.Pid}`), `running container ${c.Id.slice(0, 12)} has its process`);
}

/**
 * The store (read while no daemon holds it): every endpoint address of the IPAM held by an
 * endpoint and the other way round, every endpoint in a sandbox of a container.
 */
function checkStore(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, root: string): { keys: string[] } {
  const db = new Database(path.join(root, 'store.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT key, value FROM kv').all() as Array<{ key: string; value: Buffer }>;
    const value = (key: string): Record<string, unknown> => JSON.parse(rows.find((r) => r.key === key)!.value.toString('utf8')) as Record<string, unknown>;
    const endpointAddresses = rows
      .filter((r) => r.key.startsWith('endpoints/'))
      .flatMap((r) => {
        const e = value(r.key) as { ipv4?: { poolId: string; address: string } };
        return e.ipv4 ? [`${e.ipv4.poolId} ${e.ipv4.address.split('/')[0]}`] : [];
      });
    const ipamAddresses = rows
      .filter((r) => /^ipam\/LocalDefault\/addrs\//.test(r.key) && (value(r.key) as { role: string }).role === 'endpoint')
      .map((r) => {
        const [, , , pool, ip] = r.key.split('/');
        return `${decodeURIComponent(pool!)} ${ip}`;
      });
    t.deepEqual([...ipamAddresses].sort(), [...endpointAddresses].sort(), 'the IPAM holds exactly the endpoints\' addresses');
    const sandboxes = rows.filter((r) => r.key.startsWith('sandboxes/')).map((r) => value(r.key) as { id: string; containerId?: string });
    const containers = new Set(rows.filter((r) => r.key.startsWith('containers/')).map((r) => r.key.slice('containers/'.length)));
    t.deepEqual(sandboxes.filter((s) => s.containerId === undefined || !containers.has(s.containerId)).map((s) => s.id), [], 'every sandbox belongs to a container');
    return { keys: rows.map((r) => r.key) };
  } finally {
    db.close();
  }
}

const covered = new Set(SCENARIOS.flatMap((s) => s.points));
test('every crash point is reached by a scenario below', (t) => {
  t.deepEqual(CRASH_POINTS.filter((point) => !covered.has(point)), []);
});

for (const scenario of SCENARIOS) {
  for (const point of scenario.points) {
    test(`${scenario.name}, crashed at ${point}: the restart repairs, the retry succeeds, everything is removable`, (t) =>
      inTurn(async () => {
        const ns = createTestNamespace(t, 'nctl-crash');
        scenario.host?.(ns);
        // Set up by a daemon that does not crash: its start and the setup pass crash points too.
        const first = await startDaemon(t, { netns: ns.path, args: ['--bridge', 'none'] });
        const { root, runDir } = first;
        for (const step of scenario.setup) await must(first, step);
        await first.stop();
        const crashing = await startDaemon(t, { netns: ns.path, args: ['--bridge', 'none'], root, runDir, env: { NETCTL_TEST_CRASH_AT: point } });
        await call(crashing, scenario.operation).catch(() => undefined);
        const ended = await Promise.race([crashing.exited, new Promise<undefined>((resolve) => setTimeout(resolve, 20_000, undefined))]);
        t.is(ended?.signal, 'SIGKILL', `the daemon died at ${point}`);

        let daemon = await startDaemon(t, { netns: ns.path, args: ['--bridge', 'none'], root, runDir });
        await checkNothingUnowned(t, ns, daemon, await listed(daemon));
        await daemon.stop();
        checkStore(t, root);

        daemon = await startDaemon(t, { netns: ns.path, args: ['--bridge', 'none'], root, runDir });
        const retried = await call(daemon, scenario.operation);
        t.true(scenario.retry.includes(retried.status), `retried: ${retried.status} ${retried.text}`);
        const state = await listed(daemon);
        await checkNothingUnowned(t, ns, daemon, state);

        for (const c of state.containers) await must(daemon, { method: 'DELETE', path: `/containers/${c.Id}?force=1` });
        for (const n of state.networks.filter((n) => !['none', 'host'].includes(n.Name))) await must(daemon, { method: 'DELETE', path: `/networks/${n.Id}` });
        for (const i of state.images.filter((i) => !i.RepoTags.includes('busybox:latest'))) await must(daemon, { method: 'DELETE', path: `/images/${i.Id}` });
        const empty = await listed(daemon);
        t.deepEqual(empty.containers, []);
        t.deepEqual(empty.images.map((i) => i.RepoTags), [['busybox:latest']]);
        await checkNothingUnowned(t, ns, daemon, empty);
        t.deepEqual(ns.json<IpLink[]>('ip', '-d', 'link', 'show').filter((l) => l.group === String(NETCTL_LINK_GROUP)), []);
        await daemon.stop();
        const { keys } = checkStore(t, root);
        t.deepEqual(keys.filter((k) => /^(sandboxes|endpoints|containers)\/|^ipam\/LocalDefault\/(pools|addrs)\//.test(k)), [], 'nothing left in the store');
      }),
    );
  }
}
