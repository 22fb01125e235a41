// Global scope across hosts on a real etcd: etcd in a test host of its own, and three test hosts
// each running a controller on it with a global-scope driver registered the way an embedder does
// (integration/helpers/global-driver.ts). Networks, names, endpoints per host, pools and
// addresses are shared through etcd; an outage and a broken, compacted watch are recovered from.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import type { EndpointRecord, NetworkRecord, SandboxRecord } from '../../src/controller';
import { until } from '../../test/helpers/until';
import { type ClusterNode, startCluster } from '../helpers/cluster-hosts';
import { type RemoteError, startController } from '../helpers/controller-host';

const names = async (node: ClusterNode): Promise<string[]> => (await node.controller.call<NetworkRecord[]>('list')).map((n) => n.name);
const has = async (node: ClusterNode, name: string): Promise<boolean> => (await names(node)).includes(name);
const held = (node: ClusterNode): Promise<string[]> => node.controller.call<string[]>('driverNetworks');
const failure = (promise: Promise<unknown>): Promise<RemoteError> =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: RemoteError) => error,
  );

test('a global network made on A is listed and inspected on B and C; a name is taken cluster-wide, one of concurrent creates wins', async (t) => {
  const { nodes } = await startCluster(t, ['A', 'B', 'C']);
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  const made = await a.controller.call<NetworkRecord>('create', { name: 'g1', driver: 'gtest', ipam: { config: [{ subnet: '10.80.0.0/24' }] } });
  t.is(made.scope, 'global');
  for (const node of [b, c]) {
    await until(`${node.name} to list g1`, () => has(node, 'g1'));
    const seen = await node.controller.call<NetworkRecord>('find', 'g1');
    t.is(seen.id, made.id);
    t.deepEqual(seen.ipam.config, [{ subnet: '10.80.0.0/24', gateway: '10.80.0.1' }]);
    t.deepEqual(await held(node), []);
  }
  t.deepEqual(await held(a), [made.id]);

  const results = await Promise.allSettled(nodes.map((node) => node.controller.call<NetworkRecord>('create', { name: 'same', driver: 'gtest' })));
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const result of results) {
    if (result.status === 'rejected') t.like(result.reason, { name: 'ConflictError', message: 'network with name same already exists' });
  }
  for (const node of nodes) await until(`${node.name} to list one "same"`, async () => (await names(node)).filter((n) => n === 'same').length === 1);
});

test('rm while B has an endpoint is refused naming B from any host; once it is gone rm works and every host lets go', async (t) => {
  const { nodes } = await startCluster(t, ['A', 'B', 'C']);
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  const made = await a.controller.call<NetworkRecord>('create', { name: 'g2', driver: 'gtest', ipam: { config: [{ subnet: '10.81.0.0/24' }] } });
  await until('B to list g2', () => has(b, 'g2'));
  const sandbox = await b.controller.call<SandboxRecord>('createSandbox', {});
  const endpoint = await b.controller.call<EndpointRecord>('connect', 'g2', sandbox.id);
  t.is(endpoint.ipv4?.address, '10.81.0.2/24');
  t.deepEqual(await held(b), [made.id]); // B's driver got the network with its first endpoint there

  for (const node of [a, c]) {
    const refused = await failure(node.controller.call('delete', 'g2'));
    t.is(refused.name, 'ForbiddenError');
    t.is(refused.message, `error while removing network: network g2 id ${made.id} has active endpoints (on host B); disconnect or remove them there first`);
  }
  const own = await failure(b.controller.call('delete', 'g2'));
  t.regex(own.message, /has active endpoints \(on host B\)/);

  await b.controller.call('disconnect', 'g2', sandbox.id);
  await a.controller.call('delete', 'g2');
  for (const node of nodes) {
    await until(`${node.name} to drop g2`, async () => !(await has(node, 'g2')));
    await until(`${node.name}'s driver to let go of g2`, async () => !(await held(node)).includes(made.id));
  }
  // Its pool went back: the subnet can be had again.
  await c.controller.call('create', { name: 'g2-again', driver: 'gtest', ipam: { config: [{ subnet: '10.81.0.0/24' }] } });
});

test('pools and addresses stay unique across hosts allocating at the same time; one static subnet goes to one network', async (t) => {
  const { nodes } = await startCluster(t, ['A', 'B', 'C']);
  const [a] = nodes as [ClusterNode];
  const pools = await Promise.all(nodes.flatMap((node) => [0, 1, 2, 3].map((i) => node.controller.call<NetworkRecord>('create', { name: `${node.name}-${i}`, driver: 'gtest' }))));
  const subnets = pools.map((n) => n.ipam.config[0]!.subnet);
  t.is(new Set(subnets).size, 12, subnets.join(' '));

  const statics = await Promise.allSettled(nodes.map((node) => node.controller.call('create', { name: `s-${node.name}`, driver: 'gtest', ipam: { config: [{ subnet: '10.82.0.0/24' }] } })));
  t.is(statics.filter((r) => r.status === 'fulfilled').length, 1);
  for (const result of statics) {
    if (result.status === 'rejected') t.regex((result.reason as Error).message, /10\.82\.0\.0\/24/);
  }

  await a.controller.call('create', { name: 'shared', driver: 'gtest', ipam: { config: [{ subnet: '10.83.0.0/24' }] } });
  for (const node of nodes) await until(`${node.name} to list shared`, () => has(node, 'shared'));
  const addresses = await Promise.all(
    nodes.flatMap((node) =>
      [0, 1, 2, 3, 4].map(async () => {
        const sandbox = await node.controller.call<SandboxRecord>('createSandbox', {});
        return (await node.controller.call<EndpointRecord>('connect', 'shared', sandbox.id)).ipv4!.address;
      }),
    ),
  );
  t.is(new Set(addresses).size, 15, addresses.join(' '));
  t.true(addresses.every((address) => address.startsWith('10.83.0.')));
});

test('etcd stopped: a global create fails clearly, local networks are made and attached, global ones stay listed; etcd back: all catches up', async (t) => {
  const { etcd, nodes } = await startCluster(t, ['A', 'B']);
  const [a, b] = nodes as [ClusterNode, ClusterNode];
  await a.controller.call('create', { name: 'before', driver: 'gtest', ipam: { config: [{ subnet: '10.84.0.0/24' }] } });
  await until('B to list before', () => has(b, 'before'));
  const onB = await b.controller.call<SandboxRecord>('createSandbox', {});
  await b.controller.call('connect', 'before', onB.id);
  await etcd.stop();

  const refused = await failure(a.controller.call('create', { name: 'during', driver: 'gtest' }));
  t.is(refused.name, 'ClusterUnavailableError');
  t.regex(refused.message, /^cannot create the global network during: the cluster store is unreachable \(etcd at http:\/\/10\.251\.0\.1:2379 .*\)\. .*local networks and everything already running keep working$/);
  const local = await a.controller.call<NetworkRecord>('create', { name: 'local', driver: 'bridge', ipam: { config: [{ subnet: '172.30.9.0/24' }] } });
  t.is(local.scope, 'local');
  const sandbox = await a.controller.call<SandboxRecord>('createSandbox', {});
  const endpoint = await a.controller.call<EndpointRecord>('connect', 'local', sandbox.id);
  t.is(endpoint.ipv4?.address, '172.30.9.2/24');
  t.true(await has(b, 'before'));
  t.false(await has(a, 'during'));
  // B's endpoint goes while etcd is away: the disconnect works, etcd hears of it when back.
  await b.controller.call('disconnect', 'before', onB.id);

  await etcd.start();
  // The client comes back on its own once etcd answers again.
  await until('A to create after etcd is back', async () => {
    try {
      await a.controller.call('create', { name: 'after', driver: 'gtest' });
      return true;
    } catch (error) {
      if ((error as RemoteError).name !== 'ClusterUnavailableError') throw error;
      return false;
    }
  }, 30_000, 500);
  await until('B to list after', () => has(b, 'after'), 30_000);
  await until('B\'s endpoint removal to reach etcd, so before can be removed', async () => {
    try {
      await a.controller.call('delete', 'before');
      return true;
    } catch (error) {
      if ((error as RemoteError).name !== 'ForbiddenError') throw error;
      return false;
    }
  }, 30_000, 200);
  await until('B to drop before', async () => !(await has(b, 'before')));
  // B's address was given back once etcd answered, so the pool went with the network.
  await a.controller.call('create', { name: 'before-again', driver: 'gtest', ipam: { config: [{ subnet: '10.84.0.0/24' }] } });
});

test('a host started while etcd is down starts, shows the global networks its driver holds, and follows etcd once it answers', async (t) => {
  const { etcd, nodes } = await startCluster(t, ['A', 'B']);
  const [a, b] = nodes as [ClusterNode, ClusterNode];
  await b.controller.call('create', { name: 'mine', driver: 'gtest' });
  await a.controller.call('create', { name: 'theirs', driver: 'gtest' });
  await until('B to list theirs', () => has(b, 'theirs'));
  await etcd.stop();
  await b.controller.stop();
  const restarted = await startController(t, { netns: b.ns.path, root: b.controller.root, runDir: b.controller.runDir, cluster: { etcd: etcd.endpoint, node: 'B' } });
  const listed = async (): Promise<string[]> => (await restarted.call<NetworkRecord[]>('list')).map((n) => n.name).sort();
  t.deepEqual(await listed(), ['mine']);
  t.deepEqual((await restarted.call<string[]>('driverNetworks')).length, 1);
  await etcd.start();
  await until('the restarted B to list both', async () => (await listed()).join() === 'mine,theirs', 30_000, 200);
  // Its IPAM follows the global space too: an address from the other host's network's pool.
  const theirs = await a.controller.call<NetworkRecord>('find', 'theirs');
  const sandbox = await restarted.call<SandboxRecord>('createSandbox', {});
  const endpoint = await restarted.call<EndpointRecord>('connect', 'theirs', sandbox.id);
  t.is(endpoint.ipv4?.address, `${theirs.ipam.config[0]!.subnet.replace(/0\/24$/, '2')}/24`);
});

const cutOff = test.macro(async (t, compact: boolean) => {
  const { etcd, etcdHost, nodes } = await startCluster(t, ['A', 'B']);
  const [a, b] = nodes as [ClusterNode, ClusterNode];
  await a.controller.call('create', { name: 'old', driver: 'gtest' });
  await until('B to list old', () => has(b, 'old'));

  b.link(false);
  // Break B's watch (not only stall it): its connections to etcd are reset here.
  b.ns.run('ss', '-K', 'dst', '10.251.0.1');
  await a.controller.call('create', { name: 'while-away', driver: 'gtest' });
  await a.controller.call('delete', 'old');
  if (compact) {
    // etcd's history compacted past what B saw: B cannot resume its watch, it must list again.
    const post = (path: string, body: object): { header: { revision: string } } =>
      JSON.parse(execFileSync('nsenter', [`--net=${etcdHost.path}`, 'curl', '-s', '-m', '5', '-X', 'POST', `${etcd.endpoint}${path}`, '-d', JSON.stringify(body)], { encoding: 'utf8' })) as { header: { revision: string } };
    const { revision } = post('/v3/kv/range', { key: Buffer.from('x').toString('base64') }).header;
    post('/v3/kv/compaction', { revision, physical: true });
  }
  t.true(await has(b, 'old')); // B, cut off, still shows what it knew
  b.link(true);

  await until('B to list while-away and drop old', async () => {
    const seen = await names(b);
    return seen.includes('while-away') && !seen.includes('old');
  }, 45_000, 200);
});

test('B\'s watch broken while A creates and removes: once back, B resumes from the last revision it saw and catches up', cutOff, false);
test('B cut off while A creates and removes, etcd compacting meanwhile: once back, B re-lists and shows exactly what etcd has', cutOff, true);
