// Daemons in a cluster: test hosts on an underlay bridge, etcd in a test host of its own, each
// daemon with --cluster-store/--advertise-addr. Members find each other through etcd and then
// gossip; a killed daemon is declared dead within the bound and rejoins when restarted; a daemon
// with another key is kept out and counted; keys rotate while a daemon joins; etcd going away
// loses no member and a daemon started meanwhile joins once it is back.
import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NETCTL_CLI, netctlCli, runner } from '../helpers/cli';
import { request, startDaemon, type TestDaemon } from '../helpers/daemon';
import { startEtcd } from '../helpers/etcd';
import { createUnderlay, type UnderlayHost } from '../helpers/underlay';
import { until } from '../../test/helpers/until';

type T = Parameters<typeof createUnderlay>[0];

interface Member {
  Name: string;
  Address: string;
  State: string;
  Incarnation: number;
  Networks: string[];
}

interface Info {
  NodeName: string;
  Encryption: boolean;
  Keys: { Count: number; Primary: string | null };
  Members: { Total: number; Alive: number };
  DroppedPackets: { Auth: number; Malformed: number; Oversized: number; Table: number };
  Suspicions: number;
  Traffic: { PacketsSent: number; PacketsReceived: number; Streams: number; BytesSent: number; BytesReceived: number };
  Store: { Endpoints: string[]; Connected: boolean };
  IgnoredEntries: number;
}

// Failure detection with membership's defaults (README, Cluster membership): a member is probed
// within one round over the others (n × 500 ms probe interval), its suspicion lasts at most
// 6 × 3 × max(1, log10 n) × 500 ms = 9 s, and the verdict is gossiped within a few 200 ms rounds.
// Doubled for two loaded cores.
const PROBE_INTERVAL_MS = 500;
const SUSPICION_MAX_MS = 6 * 3 * PROBE_INTERVAL_MS;
const deathBound = (members: number): number => 2 * (members * PROBE_INTERVAL_MS + SUSPICION_MAX_MS + 1_000);
// Discovery retries etcd with backoff up to 10 s; joining then takes a push-pull.
const REJOIN_BOUND_MS = 60_000;

async function cluster(t: T) {
  const underlay = createUnderlay(t);
  const etcdHost = underlay.addHost();
  const etcd = await startEtcd(t, { netns: etcdHost.ns.path, host: etcdHost.address });
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-keys-'));
  t.teardown(() => fs.rmSync(keyDir, { recursive: true, force: true }));
  const keyFile = (key: Buffer, name: string, base64 = false): string => {
    const file = path.join(keyDir, name);
    fs.writeFileSync(file, base64 ? key.toString('base64') + '\n' : key, { mode: 0o600 });
    return file;
  };
  const daemon = (host: UnderlayHost, name: string, extra: string[] = [], previous?: TestDaemon): Promise<TestDaemon> =>
    startDaemon(t, {
      netns: host.ns.path,
      args: ['--bridge', 'none', '--cluster-store', `etcd://${etcdHost.address}:2379`, '--advertise-addr', host.address, '--node-name', name, ...extra],
      ...(previous ? { root: previous.root, runDir: previous.runDir } : {}),
    });
  return { underlay, etcd, keyFile, daemon };
}

const members = async (d: TestDaemon): Promise<Member[]> => {
  const reply = await request(d.socketPath, 'GET', '/cluster/members');
  if (reply.status !== 200) throw new Error(`GET /cluster/members: ${reply.status} ${reply.text}`);
  return reply.json<Member[]>();
};
const info = async (d: TestDaemon): Promise<Info> => (await request(d.socketPath, 'GET', '/cluster')).json<Info>();
const stateIn = async (d: TestDaemon, name: string): Promise<string | undefined> => (await members(d)).find((m) => m.Name === name)?.State;

/** Every daemon lists every name in `names` as `state` (itself included when alive). */
async function allSee(daemons: TestDaemon[], names: string[], state: string): Promise<boolean> {
  for (const d of daemons) for (const name of names) if ((await stateIn(d, name)) !== state) return false;
  return true;
}

test.serial('three daemons form a cluster through etcd; a killed one is declared dead within the bound and rejoins alive when restarted', async (t) => {
  const { underlay, daemon, keyFile } = await cluster(t);
  const key = keyFile(crypto.randomBytes(32), 'key', true);
  const hosts = [underlay.addHost(), underlay.addHost(), underlay.addHost()];
  const names = ['node-a', 'node-b', 'node-c'];
  const daemons = await Promise.all(hosts.map((host, i) => daemon(host, names[i]!, ['--gossip-key', key])));
  await until('all three see all three alive', () => allSee(daemons, names, 'alive'), 30_000, 200);

  const listed = await members(daemons[0]!);
  t.deepEqual(
    listed.map((m) => [m.Name, m.Address]),
    names.map((name, i) => [name, `${hosts[i]!.address}:7946`]),
  );
  const a = await info(daemons[0]!);
  t.like(a, { NodeName: 'node-a', Encryption: true, Keys: { Count: 1 }, Members: { Total: 3, Alive: 3 }, Store: { Connected: true }, IgnoredEntries: 0 });
  t.regex(a.Keys.Primary!, /^[0-9a-f]{12}$/);
  // Joining took at least one push-pull stream; probes go both ways; nobody was suspected.
  t.true(a.Traffic.Streams >= 1 && a.Traffic.PacketsSent > 0 && a.Traffic.PacketsReceived > 0 && a.Traffic.BytesSent > a.Traffic.PacketsSent, JSON.stringify(a.Traffic));
  t.is(a.Suspicions, 0);
  const cli = netctlCli(daemons[0]!.socketPath);
  const table = await cli(['cluster', 'members']);
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /^NAME\s+ADDRESS\s+STATE\s+INCARNATION\s+NETWORKS\n/);
  for (const [i, name] of names.entries()) t.regex(table.stdout, new RegExp(`^${name}\\s+${hosts[i]!.address.replace(/\./g, '\\.')}:7946\\s+alive\\s+\\d+`, 'm'));
  const text = await cli(['cluster', 'info']);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /^Node name:\s+node-a$/m);
  t.regex(text.stdout, /^Members:\s+3 \(3 alive\)$/m);
  t.regex(text.stdout, /^Encryption:\s+on \(1 key, primary [0-9a-f]{12}\)$/m);
  t.regex(text.stdout, /^Ignored entries:\s+0 \(gossip entries naming a VTEP outside the cluster\)$/m);

  // kill -9 and cut its link: no leave is announced, the others must find out by probing.
  const [killed] = daemons.splice(2, 1);
  killed!.process.kill('SIGKILL');
  await killed!.exited;
  hosts[2]!.setLink(false);
  const bound = deathBound(3);
  const killedAt = Date.now();
  await until('node-c declared dead by the others', () => allSee(daemons, ['node-c'], 'dead'), bound, 100);
  t.log(`node-c declared dead by both after ${Date.now() - killedAt} ms (bound ${bound} ms)`);
  t.true(await allSee(daemons, ['node-a', 'node-b'], 'alive'));
  const suspicions = await Promise.all(daemons.map(async (d) => (await info(d)).Suspicions));
  t.true(suspicions.every((n) => n >= 1), `each survivor suspected node-c before declaring it dead: ${suspicions.join(', ')}`);

  hosts[2]!.setLink(true);
  const restarted = await daemon(hosts[2]!, 'node-c', ['--gossip-key', key], killed);
  daemons.push(restarted);
  await until('node-c alive again everywhere', () => allSee(daemons, names, 'alive'), REJOIN_BOUND_MS, 200);
});

test.serial('a daemon with another key cannot join: the members count its packets as dropped and never list it alive', async (t) => {
  const { underlay, daemon, keyFile } = await cluster(t);
  const key = keyFile(crypto.randomBytes(32), 'key');
  const [a, b] = await Promise.all([daemon(underlay.addHost(), 'node-a', ['--gossip-key', key]), daemon(underlay.addHost(), 'node-b', ['--gossip-key', key])]);
  await until('a and b see each other alive', () => allSee([a, b], ['node-a', 'node-b'], 'alive'), 30_000, 200);
  const before = (await info(a)).DroppedPackets.Auth + (await info(b)).DroppedPackets.Auth;
  t.is(before, 0);

  const intruder = await daemon(underlay.addHost(), 'intruder', ['--gossip-key', keyFile(crypto.randomBytes(32), 'other')]);
  await until('the members count the intruder\'s packets as failing authentication', async () => (await info(a)).DroppedPackets.Auth + (await info(b)).DroppedPackets.Auth > 0, 30_000, 200);
  for (const d of [a, b]) t.false((await members(d)).some((m) => m.Name === 'intruder' && m.State === 'alive'));
  t.deepEqual((await members(intruder)).map((m) => m.Name), ['intruder']);
  t.true(await allSee([a, b], ['node-a', 'node-b'], 'alive'));
  t.regex(intruder.logs(), /could not join cluster members/);
});

test.serial('keys rotate (add, use, remove) on every daemon while a fourth joins, and no member is lost', async (t) => {
  const { underlay, daemon, keyFile } = await cluster(t);
  const oldKey = crypto.randomBytes(32);
  const newKey = crypto.randomBytes(32);
  const oldFile = keyFile(oldKey, 'old');
  const newFile = keyFile(newKey, 'new', true);
  const names = ['node-a', 'node-b', 'node-c', 'node-d'];
  const daemons = await Promise.all(names.slice(0, 3).map((name) => daemon(underlay.addHost(), name, ['--gossip-key', oldFile])));
  await until('three alive', () => allSee(daemons, names.slice(0, 3), 'alive'), 30_000, 200);
  const cli = (d: TestDaemon) => netctlCli(d.socketPath);
  const keyIds = async (d: TestDaemon): Promise<string[]> => (await cli(d)(['cluster', 'key', 'ls', '--format', '{{.ID}}'])).stdout.trim().split('\n');
  const [oldId] = await keyIds(daemons[0]!);

  // The fourth starts with the old key while the others add the new one.
  const [fourth, ...added] = await Promise.all([daemon(underlay.addHost(), 'node-d', ['--gossip-key', oldFile]), ...daemons.map((d) => cli(d)(['cluster', 'key', 'add', newFile]))]);
  for (const run of added) t.is(run!.code, 0, run!.stderr);
  const newId = added[0]!.stdout.trim();
  t.regex(newId, /^[0-9a-f]{12}$/);
  daemons.push(fourth!);
  t.is((await cli(fourth!)(['cluster', 'key', 'add', newFile])).stdout.trim(), newId);
  await until('four alive', () => allSee(daemons, names, 'alive'), 30_000, 200);

  for (const step of [['use', newId], ['rm', oldId!]]) {
    for (const d of daemons) {
      const run = await cli(d)(['cluster', 'key', ...step]);
      t.is(run.code, 0, `${step.join(' ')}: ${run.stderr}`);
    }
    t.true(await allSee(daemons, names, 'alive'), `after key ${step[0]}`);
  }
  // Gossip goes on under the new key alone: a few probe rounds later still no one lost or refused.
  await new Promise((resolve) => setTimeout(resolve, 3 * PROBE_INTERVAL_MS));
  t.true(await allSee(daemons, names, 'alive'));
  for (const d of daemons) {
    t.deepEqual(await keyIds(d), [newId]);
    const { DroppedPackets, Keys } = await info(d);
    t.is(DroppedPackets.Auth, 0);
    t.is(Keys.Primary, newId);
  }
  t.deepEqual((await request(daemons[0]!.socketPath, 'GET', '/cluster/keys')).json(), [{ ID: newId, Primary: true }]);
});

test.serial('the key ring API refuses bad input with the right status, and a daemon without a cluster answers 503', async (t) => {
  const { underlay, daemon, keyFile } = await cluster(t);
  const key = crypto.randomBytes(32);
  const keyed = await daemon(underlay.addHost(), 'node-a', ['--gossip-key', keyFile(key, 'key')]);
  const plainCluster = await daemon(underlay.addHost(), 'node-b');
  const primary = (await info(keyed)).Keys.Primary!;
  const call = (d: TestDaemon, method: string, url: string, body?: unknown) => request(d.socketPath, method, url, body);

  const bad = await call(keyed, 'POST', '/cluster/keys', { Key: crypto.randomBytes(16).toString('base64') });
  t.is(bad.status, 400);
  t.regex(bad.json<{ message: string }>().message, /base64 of 32 bytes.*got 16 bytes/);
  t.is((await call(keyed, 'POST', '/cluster/keys', { Key: 'not base64!' })).status, 400);
  t.is((await call(keyed, 'POST', '/cluster/keys', [])).status, 400);
  t.is((await call(keyed, 'POST', '/cluster/keys/use', { ID: 'ffffffffffff' })).status, 404);
  const removePrimary = await call(keyed, 'DELETE', `/cluster/keys/${primary}`);
  t.is(removePrimary.status, 409);
  t.regex(removePrimary.json<{ message: string }>().message, /primary key/);
  const added = await call(keyed, 'POST', '/cluster/keys', { Key: crypto.randomBytes(32).toString('base64') });
  t.is(added.status, 201);
  t.is((await call(keyed, 'DELETE', `/cluster/keys/${added.json<{ ID: string }>().ID}`)).status, 204);
  t.is((await call(keyed, 'DELETE', `/cluster/keys/${added.json<{ ID: string }>().ID}`)).status, 404);

  const unencrypted = await call(plainCluster, 'POST', '/cluster/keys', { Key: key.toString('base64') });
  t.is(unencrypted.status, 409);
  t.regex(unencrypted.json<{ message: string }>().message, /unencrypted/);
  t.like(await info(plainCluster), { Encryption: false, Keys: { Count: 0, Primary: null } });
  t.regex(plainCluster.logs(), /gossip is unencrypted/);

  const alone = await startDaemon(t, { netns: underlay.addHost().ns.path, args: ['--bridge', 'none'] });
  for (const url of ['/cluster', '/cluster/members', '/cluster/keys']) {
    const reply = await call(alone, 'GET', url);
    t.is(reply.status, 503, url);
    t.is(reply.json<{ message: string }>().message, 'this daemon is not part of a cluster; start it with --cluster-store and --advertise-addr');
  }
  const cli = await netctlCli(alone.socketPath)(['cluster', 'members']);
  t.is(cli.code, 1);
  t.regex(cli.stderr, /^Error response from daemon: this daemon is not part of a cluster/);
});

test.serial('etcd stopped mid-run: members stay alive, a daemon started meanwhile serves and joins once etcd is back', async (t) => {
  const { underlay, etcd, daemon } = await cluster(t);
  const [a, b] = await Promise.all([daemon(underlay.addHost(), 'node-a'), daemon(underlay.addHost(), 'node-b')]);
  await until('a and b alive', () => allSee([a, b], ['node-a', 'node-b'], 'alive'), 30_000, 200);

  await etcd.stop();
  await until('a notices etcd is gone', async () => !(await info(a)).Store.Connected, 30_000, 200);
  const c = await daemon(underlay.addHost(), 'node-c');
  t.like(await info(c), { Members: { Total: 1 }, Store: { Connected: false } });
  // It serves local networks meanwhile.
  const created = await request(c.socketPath, 'POST', '/networks/create', { Name: 'local-net', Driver: 'bridge' });
  t.is(created.status, 201, created.text);
  t.true(await allSee([a, b], ['node-a', 'node-b'], 'alive'));

  await etcd.start();
  await until('c joins once etcd is back', () => allSee([a, b, c], ['node-a', 'node-b', 'node-c'], 'alive'), REJOIN_BOUND_MS, 250);
  await until('every daemon connected to etcd again', async () => (await Promise.all([a, b, c].map(info))).every((i) => i.Store.Connected), REJOIN_BOUND_MS, 250);
  t.regex(c.logs(), /the cluster store \(etcd\) does not answer yet: serving local networks, and joining the cluster once etcd answers/);
});

test.serial('--cluster-store embedded runs etcd as the daemon\'s child, which the next host joins through and which stops with the daemon', async (t) => {
  const underlay = createUnderlay(t);
  const [first, second] = [underlay.addHost(), underlay.addHost()];
  const a = await startDaemon(t, { netns: first.ns.path, args: ['--bridge', 'none', '--cluster-store', 'embedded', '--advertise-addr', 'eth0', '--node-name', 'node-a'] });
  t.regex(a.logs(), new RegExp(`start the other hosts with: netctl daemon --cluster-store etcd://${first.address.replace(/\./g, '\\.')}:2379 --advertise-addr THEIR-IP`));
  t.true(fs.existsSync(path.join(a.root, 'etcd', 'member')));
  const b = await startDaemon(t, { netns: second.ns.path, args: ['--bridge', 'none', '--cluster-store', `etcd://${first.address}:2379`, '--advertise-addr', second.address, '--node-name', 'node-b'] });
  await until('a and b alive', () => allSee([a, b], ['node-a', 'node-b'], 'alive'), 30_000, 200);
  t.like(await info(a), { Store: { Endpoints: [`http://${first.address}:2379`], Connected: true } });

  t.is(await a.stop(), 0);
  t.notRegex(first.ns.run('ss', '-Htln'), /:2379\b/);
  await until('b sees a leave', async () => (await stateIn(b, 'node-a')) === 'left', 15_000, 200);
});

test('daemon cluster flags: each missing or bad one is refused with what to do', async (t) => {
  const host = createUnderlay(t).addHost();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-flags-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const shortKey = path.join(dir, 'short');
  fs.writeFileSync(shortKey, crypto.randomBytes(31));
  const daemonIn = (args: string[]) =>
    runner(['nsenter', `--net=${host.ns.path}`, process.execPath, NETCTL_CLI])(['daemon', '--root', path.join(dir, 'root'), '--exec-root', path.join(dir, 'run'), '-H', `unix://${path.join(dir, 'd.sock')}`, '--bridge', 'none', ...args]);
  const cases: [string[], number, RegExp][] = [
    [['--cluster-store', 'etcd://10.77.0.1:2379'], 125, /--cluster-store needs --advertise-addr/],
    [['--advertise-addr', host.address], 125, /--advertise-addr needs --cluster-store/],
    [['--gossip-port', '7000'], 125, /--gossip-port needs a cluster/],
    [['--cluster-store', 'consul://x:1', '--advertise-addr', host.address], 125, /invalid --cluster-store "consul:\/\/x:1": use etcd:\/\/HOST:PORT/],
    [['--cluster-store', 'etcd://x', '--advertise-addr', host.address], 125, /invalid etcd endpoint "x"/],
    [['--cluster-store', 'etcd://10.77.0.1:2379', '--advertise-addr', host.address, '--gossip-port', '70000'], 125, /invalid --gossip-port "70000"/],
    [['--cluster-store', 'etcd://10.77.0.1:2379', '--advertise-addr', host.address, '--gossip-key', shortKey], 125, /holds 31 bytes that are neither 32 raw bytes nor their base64/],
    [['--cluster-store', 'etcd://10.77.0.1:2379', '--advertise-addr', host.address, '--gossip-key', path.join(dir, 'missing')], 125, /cannot read --gossip-key/],
  ];
  for (const [args, code, message] of cases) {
    const result = await daemonIn(args);
    t.is(result.code, code, args.join(' '));
    t.regex(result.stderr, message, args.join(' '));
  }
  // Checked at start against the test host's own addresses and links; nothing is left serving.
  for (const [advertise, message] of [
    ['10.99.0.1', /--advertise-addr 10\.99\.0\.1 is not an address of this host \(its addresses: .*10\.77\.0\.\d+.*\)/],
    ['nosuch0', /--advertise-addr "nosuch0" is neither an IP address nor an interface of this host/],
  ] as const) {
    const result = await daemonIn(['--cluster-store', 'etcd://10.77.0.1:2379', '--advertise-addr', advertise]);
    t.is(result.code, 1, advertise);
    t.regex(result.stderr, message);
    t.false(fs.existsSync(path.join(dir, 'd.sock')));
  }
});
