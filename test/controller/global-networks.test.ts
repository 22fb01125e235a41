// Global scope in the core without root or etcd: controllers of three "hosts" sharing one
// in-memory cluster store, each with its own local store and a scripted global-scope driver.
import test, { type ExecutionContext } from 'ava';
import { statusOf } from '../../src/api/errors';
import { ClusterUnavailableError, ConflictError, ForbiddenError, NotFoundError } from '../../src/controller';
import { activeEndpointsMessage, GlobalNetworks, parseNetworkKey } from '../../src/controller/global-networks';
import type { NetworkRecord } from '../../src/controller';
import type { Entry, Store } from '../../src/store/types';
import type { NetworkSpec } from '../../src/drivers/driver';
import { GLOBAL_SPACE } from '../../src/ipam';
import { openCore, SharedClusterStore, silent, type Core } from '../helpers/core';
import { ScriptedDriver } from '../helpers/scripted-driver';
import { until } from '../helpers/until';

interface Host extends Core {
  node: string;
  driver: ScriptedDriver;
  local: ScriptedDriver;
}

async function cluster(t: ExecutionContext, nodes: readonly string[] = ['A', 'B', 'C']): Promise<{ shared: SharedClusterStore; hosts: Host[] }> {
  const shared = new SharedClusterStore();
  t.teardown(() => shared.close());
  const hosts: Host[] = [];
  for (const node of nodes) {
    const driver = new ScriptedDriver({ type: 'gdrv', capability: { dataScope: 'global', connectivityScope: 'global' } });
    const local = new ScriptedDriver({ type: 'ldrv' });
    hosts.push({ node, driver, local, ...(await openCore(t, { drivers: [driver, local], cluster: { store: shared, node } })) });
  }
  return { shared, hosts };
}

/**
 * Runs one create per host so that all pass their own checks before any commits: each driver's
 * createNetwork (after the pools, before the claim) waits until every create got there or one
 * was refused earlier, so the race is decided by the cluster store, not by who saw whom first.
 */
function raceCreates<T>(hosts: readonly Host[], create: (host: Host) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  let arrived = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  for (const host of hosts) {
    host.driver.script.createNetwork = async () => {
      if (++arrived === hosts.length) open();
      await gate;
    };
  }
  return Promise.allSettled(hosts.map((host) => create(host).finally(open)));
}

const hostKey = (networkId: string, node: string): string => `networks/${networkId}/hosts/${node}`;
const endpoints = (...ids: string[]): Buffer => Buffer.from(JSON.stringify({ endpoints: ids }));

test('a global network created on A is listed and inspected on B and C; only A\'s driver holds it', async (t) => {
  const { hosts } = await cluster(t);
  const [a, b, c] = hosts as [Host, Host, Host];
  const made = await a.controller.create({ name: 'g1', driver: 'gdrv', ipam: { config: [{ subnet: '10.90.0.0/24' }] } });
  t.is(made.scope, 'global');
  for (const host of [b, c]) {
    await until(`${host.node} to list g1`, () => host.controller.list().some((n) => n.name === 'g1'));
    const seen = host.controller.find('g1');
    t.is(seen.id, made.id);
    t.deepEqual(seen.ipam.config, [{ subnet: '10.90.0.0/24', gateway: '10.90.0.1' }]);
    t.is(host.controller.find(made.id.slice(0, 12)).id, made.id);
    t.deepEqual(host.driver.callsOf('createNetwork'), []);
  }
  t.is(a.driver.callsOf('createNetwork').length, 1);
  t.is(made.allocations[0]!.addressSpace, GLOBAL_SPACE);
  // Local networks stay each host's own.
  await b.controller.create({ name: 'l1', driver: 'ldrv' });
  t.false(a.controller.list().some((n) => n.name === 'l1'));
});

test('a name is taken cluster-wide: of concurrent creates on three hosts exactly one wins, the others leave nothing', async (t) => {
  const { shared, hosts } = await cluster(t);
  const results = await raceCreates(hosts, (host) => host.controller.create({ name: 'same', driver: 'gdrv' }));
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.is(won.length, 1);
  t.is(lost.length, 2);
  for (const { reason } of lost) {
    t.true(reason instanceof ConflictError);
    t.is((reason as Error).message, 'network with name same already exists');
    t.is(statusOf(reason), 409);
  }
  // The losers' drivers were told to take down what they made; only the winner's holds the network.
  hosts.forEach((host, i) => t.is(host.driver.callsOf('createNetwork').length - host.driver.callsOf('deleteNetwork').length, results[i]!.status === 'fulfilled' ? 1 : 0));
  t.is((await shared.list('ipam/GlobalDefault/pools/')).length, 1);
  t.is((await shared.list('network-names/')).length, 1);
  // Later creates of the name are refused from any host.
  await t.throwsAsync(hosts[2]!.controller.create({ name: 'same', driver: 'gdrv' }), { instanceOf: ConflictError });
});

test('rm while another host has endpoints names it; once they are gone rm works and every host lets go', async (t) => {
  const { shared, hosts } = await cluster(t);
  const [a, b, c] = hosts as [Host, Host, Host];
  const made = await c.controller.create({ name: 'g2', driver: 'gdrv' });
  await until('A to see g2', () => a.controller.list().some((n) => n.id === made.id));
  await shared.put(hostKey(made.id, 'B'), endpoints('e1'));
  await until('A to see B\'s endpoint', async () => {
    const error = await a.controller.delete('g2').catch((e: unknown) => e);
    return error instanceof ForbiddenError;
  });
  const refused = await t.throwsAsync(a.controller.delete('g2'), { instanceOf: ForbiddenError });
  t.is(refused.message, activeEndpointsMessage(made, ['B']));
  t.regex(refused.message, /^error while removing network: network g2 id [0-9a-f]{64} has active endpoints \(on host B\)/);
  t.true(a.controller.list().some((n) => n.id === made.id));

  await shared.delete(hostKey(made.id, 'B'));
  await a.controller.delete('g2');
  for (const host of hosts) await until(`${host.node} to drop g2`, () => !host.controller.list().some((n) => n.id === made.id));
  // C made it, so C's driver held it and takes it down on seeing the record go.
  await until('C\'s driver to delete g2', () => c.driver.callsOf('deleteNetwork').length === 1);
  t.is((c.driver.callsOf('deleteNetwork')[0]!.args[0] as NetworkSpec).id, made.id);
  t.deepEqual(b.driver.callsOf('deleteNetwork'), []);
  t.deepEqual(await shared.list('ipam/GlobalDefault/pools/'), []);
  t.deepEqual(await shared.list(`networks/${made.id}`), []);
  await t.throwsAsync(b.controller.delete('g2'), { instanceOf: NotFoundError });
  // The name is free again.
  await b.controller.create({ name: 'g2', driver: 'gdrv' });
});

test('pools of concurrent creates on two hosts never overlap; the same static subnet on two hosts is refused for one', async (t) => {
  const { hosts } = await cluster(t, ['A', 'B']);
  const made = await Promise.all(hosts.flatMap((host) => Array.from({ length: 6 }, (_, i) => host.controller.create({ name: `${host.node}-${i}`, driver: 'gdrv' }))));
  const subnets = made.map((n) => n.ipam.config[0]!.subnet);
  t.is(new Set(subnets).size, 12);
  t.true(subnets.every((s) => /^10\.\d+\.\d+\.0\/24$/.test(s)));

  const results = await raceCreates(hosts, (host) => host.controller.create({ name: `static-${host.node}`, driver: 'gdrv', ipam: { config: [{ subnet: '10.99.0.0/24' }] } }));
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason as Error;
  t.is(statusOf(refused), 403);
  t.regex(refused.message, /10\.99\.0\.0\/24/);
  // Once both views have it, the refusal names the network that has the subnet.
  const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ name: string }>).value.name;
  const other = hosts.find((h) => `static-${h.node}` !== winner)!;
  await until('the other host to see the winner', () => other.controller.list().some((n) => n.name === winner));
  await t.throwsAsync(other.controller.create({ name: 'again', driver: 'gdrv', ipam: { config: [{ subnet: '10.99.0.0/24' }] } }), { message: new RegExp(`network ${winner}`) });
});

test('etcd unreachable: a global create fails with a clear 503 and leaves nothing; local networks still work; global ones stay listed', async (t) => {
  const { shared, hosts } = await cluster(t, ['A', 'B']);
  const [a, b] = hosts as [Host, Host];
  const kept = await a.controller.create({ name: 'kept', driver: 'gdrv' });
  await until('B to see kept', () => b.controller.list().some((n) => n.id === kept.id));
  shared.unreachable = true;
  const error = await t.throwsAsync(a.controller.create({ name: 'g3', driver: 'gdrv', ipam: { config: [{ subnet: '10.98.0.0/24' }] } }), { instanceOf: ClusterUnavailableError });
  t.is(statusOf(error), 503);
  t.regex(error.message, /^cannot create the global network g3: the cluster store is unreachable \(.*\)\. .*local networks and everything already running keep working$/);
  const rm = await t.throwsAsync(b.controller.delete('kept'), { instanceOf: ClusterUnavailableError });
  t.regex(rm.message, /^cannot remove the global network kept: the cluster store is unreachable/);
  await a.controller.create({ name: 'local-ok', driver: 'ldrv' });
  t.true(b.controller.list().some((n) => n.id === kept.id));
  shared.unreachable = false;
  t.false(a.controller.list().some((n) => n.name === 'g3'));
  t.deepEqual(await a.store.list('global-networks/'), (await a.store.list('global-networks/')).filter((e) => e.key.endsWith(kept.id)));
  await a.controller.create({ name: 'g3', driver: 'gdrv', ipam: { config: [{ subnet: '10.98.0.0/24' }] } });
});

test('a watch etcd ends for good (compacted) is replaced by a full re-list: what changed meanwhile shows, removals included', async (t) => {
  const { shared, hosts } = await cluster(t, ['A', 'B']);
  const [a, b] = hosts as [Host, Host];
  const old = await b.controller.create({ name: 'old', driver: 'gdrv' });
  await until('A to see old', () => a.controller.list().some((n) => n.id === old.id));
  shared.endWatches();
  // Made and removed while the watches are gone: only a re-list can tell.
  const fresh = await a.controller.create({ name: 'fresh', driver: 'gdrv' });
  await a.controller.delete('old');
  await until('B to re-list', () => b.controller.list().some((n) => n.id === fresh.id) && !b.controller.list().some((n) => n.id === old.id));
  // B's driver held "old" (B made it): the re-list let it go.
  await until('B\'s driver to delete old', () => b.driver.callsOf('deleteNetwork').some((c) => (c.args[0] as NetworkSpec).id === old.id));
  t.deepEqual(await b.store.list('global-networks/'), []);
});

test('a controller without a cluster store refuses a global-scope driver, saying what to add', async (t) => {
  const driver = new ScriptedDriver({ type: 'gdrv', capability: { dataScope: 'global' } });
  const { controller } = await openCore(t, { drivers: [driver] });
  const error = await t.throwsAsync(controller.create({ name: 'g', driver: 'gdrv' }), { instanceOf: ForbiddenError });
  t.regex(error.message, /driver "gdrv" has global scope.*--cluster-store/);
  t.deepEqual(driver.callsOf('createNetwork'), []);
});

test('keys under networks/ are told apart: records, hosts, and others left alone', (t) => {
  t.deepEqual(parseNetworkKey('networks/abc'), { kind: 'record', id: 'abc' });
  t.deepEqual(parseNetworkKey('networks/abc/hosts/node%2F1'), { kind: 'host', id: 'abc', node: 'node/1' });
  t.is(parseNetworkKey('networks/abc/other/x'), undefined);
  t.is(parseNetworkKey('networks/'), undefined);
  t.is(parseNetworkKey('networks/abc/hosts/'), undefined);
  t.is(parseNetworkKey('ipam/x'), undefined);
});

test('prune keeps a global network another host has endpoints on, and removes the unused one', async (t) => {
  const { shared, hosts } = await cluster(t, ['A', 'B']);
  const [a] = hosts as [Host];
  const used = await a.controller.create({ name: 'used', driver: 'gdrv' });
  await a.controller.create({ name: 'unused', driver: 'gdrv' });
  await shared.put(hostKey(used.id, 'B'), endpoints('e1'));
  t.deepEqual(await a.controller.prune(() => true), ['unused']);
  t.deepEqual(a.controller.list().map((n) => n.name), ['used']);
});

test('a host that was down when its network was removed lets go of it at start; one it still holds comes back to its driver', async (t) => {
  const { shared, hosts } = await cluster(t, ['A', 'B']);
  const [a, b] = hosts as [Host, Host];
  const gone = await b.controller.create({ name: 'gone', driver: 'gdrv' });
  const kept = await b.controller.create({ name: 'kept', driver: 'gdrv' });
  await b.close();
  await until('A to see both', () => a.controller.list().length === 2);
  await a.controller.delete('gone');
  const driver = new ScriptedDriver({ type: 'gdrv', capability: { dataScope: 'global', connectivityScope: 'global' } });
  const reopened = await openCore(t, { drivers: [driver], store: b.store, cluster: { store: shared, node: 'B' } });
  t.deepEqual((driver.callsOf('restore')[0]!.args[0] as NetworkSpec[]).map((n) => n.id).sort(), [gone.id, kept.id].sort());
  t.deepEqual(driver.callsOf('deleteNetwork').map((c) => (c.args[0] as NetworkSpec).id), [gone.id]);
  t.deepEqual(reopened.controller.list().map((n) => n.name), ['kept']);
  await until('B\'s copy of gone to go', async () => (await b.store.list('global-networks/')).length === 1);
  t.deepEqual((await b.store.list('global-networks/')).map((e) => e.key), [`global-networks/${kept.id}`]);
});

test('a host\'s first endpoint landing between a removal\'s read and its commit: the removal sees it and refuses (the record\'s version guards both)', async (t) => {
  const shared = new SharedClusterStore();
  t.teardown(() => shared.close());
  const quiet = { log: silent, removed: () => undefined, ownEndpoints: () => [] };
  const b = new GlobalNetworks({ ...quiet, store: shared, node: 'B' });
  const record = { id: 'f'.repeat(64), name: 'raced' } as NetworkRecord;
  let raced = false;
  // The remover's store lets B's first endpoint in right after the remover has read the hosts (none).
  const hooked = async (prefix: string): Promise<Entry[]> => {
    const entries = await shared.list(prefix);
    if (!raced && prefix.endsWith('/hosts/')) {
      raced = true;
      await b.enter(record.id, 'e1', false);
    }
    return entries;
  };
  const racing = new Proxy(shared, { get: (target, property) => (property === 'list' ? hooked : (Reflect.get(target, property) as unknown as (...a: unknown[]) => unknown).bind?.(target) ?? Reflect.get(target, property)) }) as Store;
  const a = new GlobalNetworks({ ...quiet, store: racing, node: 'A' });
  await a.claim(record);
  const error = await t.throwsAsync(a.remove(record), { instanceOf: ForbiddenError });
  t.true(raced);
  t.is(error.message, activeEndpointsMessage(record, ['B']));
  t.truthy(await shared.get(`networks/${record.id}`));
  // Once B's endpoint goes the removal goes through, and a late first endpoint finds no network.
  await b.leave(record.id, 'e1');
  await a.remove(record);
  await t.throwsAsync(b.enter(record.id, 'e2', false), { instanceOf: NotFoundError });
  t.deepEqual(await shared.list('networks/'), []);
});
