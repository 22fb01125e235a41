// External sandboxes (an engine's own namespaces, libnetwork's "external key") through the
// library's controller in a test host: a namespace from `ip netns add`, one held by a process
// (/proc/PID/ns/net) and one given as a descriptor are joined, reach each other, answer names at
// 127.0.0.11, and outlive deleteSandbox with nothing of netctl's left inside; bad keys are
// refused with nothing made; a restart keeps a live one and drops one whose process ended.
import test from 'ava';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { EndpointRecord, NetworkRecord, SandboxRecord } from '../../src/controller';
import { pings } from '../firewall/topology';
import { type ControllerHost, RemoteError, startController } from '../helpers/controller-host';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

type Teardown = Parameters<typeof createTestNamespace>[0];

const inside = (key: string, ...command: string[]): string => execFileSync('nsenter', [`--net=${key}`, ...command], { encoding: 'utf8', timeout: 15_000 });
const linkNames = (key: string): string[] => (JSON.parse(inside(key, 'ip', '-j', 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname).sort();
const loUp = (key: string): boolean => (JSON.parse(inside(key, 'ip', '-j', 'link', 'show', 'lo')) as Array<{ flags: string[] }>)[0]!.flags.includes('UP');
const resolve = (key: string, name: string): string => inside(key, 'dig', '+short', '+time=2', '+tries=2', '@127.0.0.11', name).trim();
const dnsListeners = (key: string): string => inside(key, 'ss', '-H', '-lnut', 'src', '127.0.0.11').trim();
const plain = (cidr: string | undefined): string => cidr!.split('/')[0]!;
const inode = (file: string): number => fs.statSync(file).ino;

/** A namespace held only by a process (`unshare -n sleep`), as a runtime's container has it. */
async function processNamespace(t: Teardown): Promise<{ key: string; process: ChildProcess }> {
  const child = spawn('unshare', ['--net', 'sh', '-c', 'echo up; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('unshare did not start within 10 s')), 10_000);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('error', reject);
  });
  return { key: `/proc/${child.pid}/ns/net`, process: child };
}

async function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exit;
}

/** Polls `check` every 50 ms for up to `ms`: the kernel frees a namespace's links asynchronously. */
async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

async function setup(t: Teardown): Promise<{ host: TestNamespace; c: ControllerHost; network: NetworkRecord }> {
  const host = createTestNamespace(t, 'nctl-ext');
  const c = await startController(t, { netns: host.path });
  const network = await c.call<NetworkRecord>('create', { name: 'ext', driver: 'bridge', ipam: { config: [{ subnet: '10.81.0.0/24' }] } });
  return { host, c, network };
}

const hostVeths = (host: TestNamespace): string[] => host.json<Array<{ ifname: string }>>('ip', 'link', 'show', 'type', 'veth').map((l) => l.ifname);

test('namespaces of ip netns add and of a process are joined, reach each other, answer names at 127.0.0.11, and stay after deleteSandbox', async (t) => {
  const { host, c, network } = await setup(t);
  const named = createTestNamespace(t, 'nctl-exa');
  const held = await processNamespace(t);
  const heldInode = inode(held.key);

  const a = await c.call<SandboxRecord>('createSandbox', { key: named.path });
  const b = await c.call<SandboxRecord>('createSandbox', { key: held.key });
  t.like(a, { key: named.path, external: true, namespaceInode: inode(named.path) });
  t.like(b, { key: held.key, external: true, namespaceInode: heldInode });
  t.true(loUp(named.path) && loUp(held.key), 'loopback is up for the DNS listener');
  const ea = await c.call<EndpointRecord>('connect', 'ext', a.id, { name: 'alpha' });
  const eb = await c.call<EndpointRecord>('connect', 'ext', b.id, { name: 'beta', aliases: ['db'] });
  t.deepEqual(linkNames(named.path), ['eth0', 'lo']);
  t.true(pings(named, plain(eb.ipv4?.address)));
  t.true(pings({ path: held.key }, plain(ea.ipv4?.address)));
  t.is(resolve(named.path, 'beta'), plain(eb.ipv4?.address));
  t.is(resolve(named.path, 'db'), plain(eb.ipv4?.address));
  t.is(resolve(held.key, 'alpha'), plain(ea.ipv4?.address));
  t.deepEqual((await c.call<SandboxRecord[]>('sandboxes')).map((s) => s.id).sort(), [a.id, b.id].sort());

  await c.call('deleteSandbox', a.id);
  await c.call('deleteSandbox', b.id);
  for (const key of [named.path, held.key]) {
    t.deepEqual(linkNames(key), ['lo'], `no interface of netctl's is left in ${key}`);
    t.is(dnsListeners(key), '', `no DNS listener is left in ${key}`);
  }
  t.true(fs.existsSync(named.path), 'the named namespace is still there');
  t.is(inode(held.key), heldInode, "the process's namespace is the same one");
  t.deepEqual(await c.call('sandboxes'), []);
  await c.call('delete', network.id);
  t.deepEqual(hostVeths(host), []);
  t.false(fs.existsSync(path.join(c.runDir, 'netns')), 'netctl made no namespace of its own');
});

test('a descriptor key: netctl keeps a duplicate while the sandbox lives, so the caller may close its own, and lets it go at deleteSandbox', async (t) => {
  const { c } = await setup(t);
  const named = createTestNamespace(t, 'nctl-exd');
  const peer = createTestNamespace(t, 'nctl-exp');
  // The helper opens the path, hands netctl the descriptor and closes its own after the call.
  const s = await c.call<SandboxRecord>('createSandbox', { key: { open: named.path } });
  const fdPath = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(s.key);
  t.truthy(fdPath, `the key is the descriptor netctl holds: ${s.key}`);
  t.is(inode(s.key), inode(named.path));
  const p = await c.call<SandboxRecord>('createSandbox', { key: peer.path });
  const es = await c.call<EndpointRecord>('connect', 'ext', s.id, { name: 'viafd' });
  await c.call('connect', 'ext', p.id, { name: 'peer' });
  t.true(pings(peer, plain(es.ipv4?.address)));
  t.is(resolve(named.path, 'peer'), plain((await c.call<EndpointRecord[]>('endpoints', { sandboxId: p.id }))[0]!.ipv4?.address));

  await c.call('deleteSandbox', s.id);
  t.false(fs.existsSync(s.key), 'the duplicate descriptor is closed');
  t.deepEqual(linkNames(named.path), ['lo']);
  await c.call('deleteSandbox', p.id);
});

test('bad keys are refused with the reason, and nothing is made', async (t) => {
  const { host, c } = await setup(t);
  const named = createTestNamespace(t, 'nctl-exr');
  const file = path.join(c.root, 'not-a-namespace');
  fs.writeFileSync(file, '');
  const refusals: Array<[unknown, string, RegExp]> = [
    ['relative/key', 'InvalidParameterError', /invalid sandbox key "relative\/key": give a namespace path/],
    ['/run/netns/nctl-no-such-namespace', 'InvalidParameterError', /no network namespace at \/run\/netns\/nctl-no-such-namespace: make it first/],
    [file, 'InvalidParameterError', /is not a network namespace/],
    [host.path, 'InvalidParameterError', /is the network namespace netctl runs in/],
    [path.join(c.runDir, 'netns', 'x'), 'InvalidParameterError', /inside netctl's own sandbox directory/],
    [-1, 'InvalidParameterError', /invalid sandbox key -1/],
  ];
  for (const [key, name, message] of refusals) {
    const error = await t.throwsAsync(c.call('createSandbox', { key }), { instanceOf: RemoteError, message }, JSON.stringify(key));
    t.is(error?.name, name, JSON.stringify(key));
  }
  const first = await c.call<SandboxRecord>('createSandbox', { key: named.path });
  const twice = await t.throwsAsync(c.call('createSandbox', { key: { open: named.path } }), { instanceOf: RemoteError, message: new RegExp(`is sandbox ${first.id.slice(0, 12)}'s already`) });
  t.is(twice?.name, 'ConflictError');
  t.deepEqual((await c.call<SandboxRecord[]>('sandboxes')).map((s) => s.id), [first.id]);
  await c.call('deleteSandbox', first.id);

});

test('restart: an external sandbox whose namespace lives is kept (DNS answers again), one whose process ended is dropped with its endpoint and address', async (t) => {
  const { host, c } = await setup(t);
  const named = createTestNamespace(t, 'nctl-exk');
  const held = await processNamespace(t);
  const kept = await c.call<SandboxRecord>('createSandbox', { key: named.path });
  const gone = await c.call<SandboxRecord>('createSandbox', { key: held.key });
  const eKept = await c.call<EndpointRecord>('connect', 'ext', kept.id, { name: 'kept' });
  const eGone = await c.call<EndpointRecord>('connect', 'ext', gone.id, { name: 'gone' });
  t.is(hostVeths(host).length, 2);

  await ended(held.process);
  await c.kill();
  // The namespace went with its last holders (the process, the controller's sockets), its veth with it.
  t.true(await eventually(() => hostVeths(host).length === 1), 'the veth of the ended namespace is gone');

  const second = await startController(t, { netns: host.path, root: c.root, runDir: c.runDir });
  t.deepEqual((await second.call<SandboxRecord[]>('sandboxes')).map((s) => s.id), [kept.id]);
  t.deepEqual((await second.call<EndpointRecord[]>('endpoints', { networkId: eKept.networkId })).map((e) => e.id), [eKept.id]);
  t.true(fs.existsSync(named.path), 'the kept namespace was not taken for an orphan');
  t.is(resolve(named.path, 'kept'), plain(eKept.ipv4?.address), 'DNS listens there again');
  t.true(pings(named, '10.81.0.1'));

  const other = createTestNamespace(t, 'nctl-exo');
  const reuse = await second.call<SandboxRecord>('createSandbox', { key: other.path });
  const again = await second.call<EndpointRecord>('connect', 'ext', reuse.id, { ipv4: plain(eGone.ipv4?.address) });
  t.is(again.ipv4?.address, eGone.ipv4?.address, "the dropped sandbox's address was released");
  await second.call('deleteSandbox', reuse.id);
  await second.call('deleteSandbox', kept.id);
  t.deepEqual(linkNames(named.path), ['lo']);
});
