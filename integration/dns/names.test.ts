// Names through a daemon in a test host, end to end: names DNS cannot carry are refused with 400
// and leave nothing behind, names of the limit answer A and PTR; names from an older store that
// DNS cannot carry (the reported crash: a network named with 70,000 characters, a PTR query for
// its container) are left out of answers and the daemon lives; and a --network none container's
// 127.0.0.11 forwards nothing, while one on a user network does. The upstream is a resolver the
// test runs in the test host.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type Runner } from '../helpers/cli';
import { daemonWithCli, inspect, ok } from '../helpers/containers';
import { request, startDaemon, type TestDaemon } from '../helpers/daemon';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';
import { LocalStore } from '../../src/store/sqlite';

const UPSTREAM = '127.0.0.53';

/** A test host with a resolver at UPSTREAM (example.org: 192.0.2.99, anything else NXDOMAIN) and a daemon forwarding to it. */
async function setup(t: Parameters<typeof startDaemon>[0] & Parameters<typeof createTestNamespace>[0]): Promise<{ ns: TestNamespace; daemon: TestDaemon; netctl: Runner }> {
  const ns = createTestNamespace(t, 'nctl-names');
  ns.run('ip', 'link', 'set', 'lo', 'up');
  const dns2 = path.dirname(require.resolve('dns2/package.json'));
  const resolver = `const { Packet } = require(${JSON.stringify(dns2)}); const s = require('dgram').createSocket('udp4');
s.on('message', (m, peer) => { const q = Packet.parse(m); const r = Packet.createResponseFromRequest(q); const question = q.questions[0];
  if (question.name.toLowerCase() !== 'example.org') r.header.rcode = Packet.RCODE.NXDOMAIN;
  else if (question.type === Packet.TYPE.A) r.answers.push(Packet.createResourceFromQuestion(question, { type: 1, class: 1, ttl: 30, address: '192.0.2.99' }));
  s.send(r.toBuffer(), peer.port, peer.address); });
s.bind(53, ${JSON.stringify(UPSTREAM)}, () => process.stdout.write('ready\\n'));`;
  const child = spawn('nsenter', [`--net=${ns.path}`, process.execPath, '-e', resolver], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return { ns, ...(await daemonWithCli(t, { netns: ns.path, args: ['--bridge', 'none', '--dns', UPSTREAM] })) };
}

/** dig at 127.0.0.11 from inside a container's namespace (dig is the host's: busybox has none). */
async function digIn(ns: TestNamespace, netctl: Runner, container: string, ...args: string[]): Promise<string> {
  const key = (await inspect(netctl, container)).NetworkSettings.SandboxKey;
  return ns.run('nsenter', `--net=${key}`, 'dig', '@127.0.0.11', '+time=3', '+tries=1', ...args);
}

const ipOf = async (netctl: Runner, container: string, network: string): Promise<string> => (await inspect(netctl, container)).NetworkSettings.Networks[network]!.IPAddress;

async function alive(t: { true(value: boolean, message?: string): void }, daemon: TestDaemon): Promise<void> {
  t.true(daemon.process.exitCode === null && daemon.process.signalCode === null, `the daemon lives:\n${daemon.logs().slice(-2000)}`);
  t.true((await request(daemon.socketPath, 'GET', '/_ping')).status === 200, 'and answers');
}

test('names DNS cannot carry are refused with 400 and leave nothing behind; names of 63 characters answer A and PTR', async (t) => {
  const { ns, daemon, netctl } = await setup(t);
  const api = (method: string, url: string, body?: unknown) => request(daemon.socketPath, method, url, body);
  const refused = async (method: string, url: string, body: unknown, message: RegExp): Promise<void> => {
    const reply = await api(method, url, body);
    t.is(reply.status, 400, reply.text.slice(0, 300));
    t.regex(reply.json<{ message: string }>().message, message);
  };
  const subnet = { IPAM: { Config: [{ Subnet: '10.93.0.0/24' }] } };
  await refused('POST', '/networks/create', { Name: 'n'.repeat(70_000), ...subnet }, /^invalid network name "n{32}"… \(70000 characters\): at most 63 characters are allowed \(the embedded DNS answers with it, and a DNS label holds 63\); choose a shorter one$/);
  await refused('POST', '/networks/create', { Name: 'n'.repeat(64), ...subnet }, /\(64 characters\): at most 63/);
  await refused('POST', '/networks/create', { Name: 'a b', ...subnet }, /^invalid network name "a b": use letters, digits, "_", "." and "-", starting with a letter or digit$/);
  t.deepEqual((await api('GET', '/networks')).json<Array<{ Name: string }>>().map((n) => n.Name).sort(), ['host', 'none']);

  const network = 'n'.repeat(63);
  const name = 'c'.repeat(63);
  const alias = 'a'.repeat(63);
  t.is((await api('POST', '/networks/create', { Name: network, ...subnet })).status, 201);
  const create = { Cmd: ['sleep', '300'], HostConfig: { NetworkMode: network } };
  await refused('POST', `/containers/create?name=${'c'.repeat(64)}`, create, /^invalid container name "c{32}"… \(64 characters\): at most 63/);
  await refused('POST', '/containers/create?name=a%20b', create, /^Invalid container name \(a b\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed$/);
  await refused('POST', '/containers/create', { ...create, NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ['x y'] } } } }, /^invalid network alias "x y": use letters/);
  await refused('POST', '/containers/create', { ...create, NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ['a'.repeat(64)] } } } }, /^invalid network alias "a{32}"… \(64 characters\)/);
  t.deepEqual((await api('GET', '/containers/json?all=1')).json(), [], 'no container left');
  const netns = path.join(daemon.runDir, 'netns');
  t.deepEqual(fs.existsSync(netns) ? fs.readdirSync(netns) : [], [], 'no sandbox left');

  await ok(netctl, ['run', '-d', '--name', name, '--network-alias', alias, '--network', network, 'sleep', '300']);
  await ok(netctl, ['run', '-d', '--name', 'client', '--network', network, 'sleep', '300']);
  await ok(netctl, ['network', 'create', '--subnet', '10.95.0.0/24', 'other']);
  await refused('POST', '/networks/other/connect', { Container: 'client', EndpointConfig: { Aliases: ['-bad'] } }, /^invalid network alias "-bad"/);
  t.deepEqual(Object.keys((await inspect(netctl, 'client')).NetworkSettings.Networks), [network], 'the refused connect left no endpoint');

  const address = await ipOf(netctl, name, network);
  t.is((await digIn(ns, netctl, 'client', '+short', name)).trim(), address);
  t.is((await digIn(ns, netctl, 'client', '+short', alias)).trim(), address);
  t.is((await digIn(ns, netctl, 'client', '+short', '-x', address)).trim(), `${name}.${network}.`);
  t.regex(await ok(netctl, ['exec', 'client', 'nslookup', address]), new RegExp(`name = ${name}\\.${network}`), "busybox's nslookup reads the PTR answer");
  await alive(t, daemon);
});

test('names from an older store that DNS cannot carry (70,000 and 100 characters) are left out of PTR answers, which go upstream; A answers; the daemon lives', async (t) => {
  const { ns, daemon, netctl } = await setup(t);
  await ok(netctl, ['network', 'create', '--subnet', '10.96.0.0/24', 'front']);
  await ok(netctl, ['network', 'create', '--subnet', '10.97.0.0/24', 'mid']);
  await ok(netctl, ['run', '-d', '--name', 'victim', '--network', 'front', 'sleep', '300']);
  await ok(netctl, ['run', '-d', '--name', 'victim2', '--network', 'mid', 'sleep', '300']);
  await ok(netctl, ['run', '-d', '--name', 'client', '--network', 'front', 'sleep', '300']);
  await ok(netctl, ['network', 'connect', 'mid', 'client']);
  const [victim, victim2] = [await ipOf(netctl, 'victim', 'front'), await ipOf(netctl, 'victim2', 'mid')];

  // Names no check ever saw, as a store written before the checks may hold.
  await daemon.stop();
  const store = new LocalStore(path.join(daemon.root, 'store.db'));
  for (const entry of await store.list('networks/')) {
    const record = JSON.parse(entry.value.toString()) as { name: string };
    const long = { front: 'n'.repeat(70_000), mid: 'm'.repeat(100) }[record.name];
    if (long) await store.put(entry.key, Buffer.from(JSON.stringify({ ...record, name: long })));
  }
  await store.close();
  const again = await startDaemon(t, { netns: ns.path, root: daemon.root, runDir: daemon.runDir, args: ['--bridge', 'none', '--dns', UPSTREAM] });
  t.teardown(async () => void (await netctl(['rm', '-f', 'victim', 'victim2', 'client'])));

  for (const address of [victim, victim2]) {
    const reverse = await digIn(ns, netctl, 'client', '-x', address);
    t.regex(reverse, /status: NXDOMAIN/, `no name left for ${address}: the upstream's answer\n${reverse}`);
    t.regex(reverse, /ANSWER: 0/);
  }
  t.is((await digIn(ns, netctl, 'client', '+short', 'victim')).trim(), victim);
  t.is((await digIn(ns, netctl, 'client', '+short', '+tcp', 'victim2')).trim(), victim2);
  await alive(t, again);
});

test('a --network none container gets REFUSED for outside names; one on a user network has them forwarded', async (t) => {
  const { ns, netctl } = await setup(t);
  await ok(netctl, ['network', 'create', '--subnet', '10.98.0.0/24', 'front']);
  await ok(netctl, ['run', '-d', '--name', 'client', '--network', 'front', 'sleep', '300']);
  await ok(netctl, ['run', '-d', '--name', 'alone', '--network', 'none', 'sleep', '300']);
  t.regex(await digIn(ns, netctl, 'alone', 'example.org'), /status: REFUSED/);
  t.regex(await digIn(ns, netctl, 'alone', '+tcp', 'example.org'), /status: REFUSED/);
  t.regex(await digIn(ns, netctl, 'client', 'example.org'), /^example\.org\.\s+30\s+IN\s+A\s+192\.0\.2\.99$/m);
});
