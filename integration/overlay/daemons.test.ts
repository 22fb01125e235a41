// Overlay networks end to end: daemons in test hosts on an underlay bridge, etcd in a test host of
// its own. A network made on one host is listed on the others (Scope "swarm", Peers the hosts on
// it); containers on two hosts reach each other over VXLAN and by name, each host having learnt
// the other's endpoint from the cluster's gossip table; only --attachable overlays take containers.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { type Runner } from '../helpers/cli';
import { inspect, ok, pings } from '../helpers/containers';
import { request } from '../helpers/daemon';
import { startOverlayCluster } from '../helpers/overlay-cluster';
import { until } from '../../test/helpers/until';

interface NetworkInspect {
  Id: string;
  Scope: string;
  Peers?: Array<{ Name: string; IP: string }>;
}

const inspectNetwork = async (cli: Runner, name: string): Promise<NetworkInspect> => (JSON.parse(await ok(cli, ['network', 'inspect', name])) as NetworkInspect[])[0]!;

/** busybox nslookup in a container: the addresses of its answer (after the server's own block), or undefined when it failed. */
async function lookup(cli: Runner, container: string, name: string): Promise<string[] | undefined> {
  const run = await cli(['exec', container, '--', 'nslookup', name]);
  if (run.code !== 0) return undefined;
  const answer = run.stdout.split(/\n\s*\n/).slice(1).join('\n');
  return [...answer.matchAll(/Address:\s*(\S+)/g)].map((m) => m[1]!);
}

test('an overlay network made on one host: listed on the other, its containers on both hosts ping each other over VXLAN', async (t) => {
  const [a, b] = await startOverlayCluster(t, 'ov', 2);
  const [cliA, cliB] = [a!.cli, b!.cli];

  await ok(cliA, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.200.0.0/24', 'ov1']);
  await until('ov1 listed on the other host', async () => (await ok(cliB, ['network', 'ls'])).includes('ov1'), 15_000, 100);
  await ok(cliA, ['run', '-d', '--name', 'left', '--network', 'ov1', 'sleep', '300']);
  await ok(cliB, ['run', '-d', '--name', 'right', '--network', 'ov1', 'sleep', '300']);
  const left = (await inspect(cliA, 'left')).NetworkSettings.Networks['ov1']!.IPAddress;
  const right = (await inspect(cliB, 'right')).NetworkSettings.Networks['ov1']!.IPAddress;
  t.not(left, right, 'one address space across hosts');
  await until('left reaches right over the overlay', () => pings(cliA, 'left', right, 1), 15_000, 200);
  t.true(await pings(cliB, 'right', left), 'and back');
  // The traffic crossed the underlay as VXLAN: host B's VXLAN device for the network received it.
  const networkId = (await inspectNetwork(cliB, 'ov1')).Id;
  const overlayNamespace = path.join(b!.daemon.runDir, 'overlay', `ov-${networkId}`);
  const stats = JSON.parse(execFileSync('nsenter', [`--net=${overlayNamespace}`, 'ip', '-j', '-s', 'link', 'show', 'vxlan0'], { encoding: 'utf8' })) as Array<{ stats64: { rx: { packets: number } } }>;
  t.true(stats[0]!.stats64.rx.packets > 0, JSON.stringify(stats));

  await ok(cliA, ['rm', '-f', 'left']);
  await ok(cliB, ['rm', '-f', 'right']);
  await ok(cliB, ['network', 'rm', 'ov1']);
  await until('ov1 gone on the first host too', async () => !(await ok(cliA, ['network', 'ls'])).includes('ov1'), 15_000, 100);
});

test('containers on two hosts resolve each other by name and alias (A, PTR) and ping by name, a rename follows; the name goes with the container and with a dead host, and comes back to a restarted daemon; Scope "swarm" and Peers on both hosts', async (t) => {
  const [a, b] = await startOverlayCluster(t, 'ovn', 2);
  const [cliA, cliB] = [a!.cli, b!.cli];
  await ok(cliA, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.201.0.0/24', 'names']);
  await until('names listed on the other host', async () => (await ok(cliB, ['network', 'ls'])).includes('names'), 15_000, 100);
  for (const { cli } of [a!, b!]) {
    t.regex(await ok(cli, ['network', 'ls', '--filter', 'name=names']), /names\s+overlay\s+swarm/, 'SCOPE swarm in ls');
    t.is((await inspectNetwork(cli, 'names')).Scope, 'swarm');
    t.regex(await ok(cli, ['network', 'ls', '-q', '--filter', 'scope=swarm']), /\S/, 'the scope filter matches swarm');
    t.is((await inspectNetwork(cli, 'names')).Peers, undefined, 'no Peers while no host has a container on the network (Docker omits the field)');
  }

  await ok(cliA, ['run', '-d', '--name', 'web', '--network', 'names', '--network-alias', 'www', 'sleep', '300']);
  await ok(cliB, ['run', '-d', '--name', 'client', '--network', 'names', 'sleep', '300']);
  const web = (await inspect(cliA, 'web')).NetworkSettings.Networks['names']!.IPAddress;
  const client = (await inspect(cliB, 'client')).NetworkSettings.Networks['names']!.IPAddress;

  await until('host B serves web', async () => (await lookup(cliB, 'client', 'web'))?.includes(web) === true, 15_000, 200);
  t.deepEqual(await lookup(cliB, 'client', 'www'), [web], 'the alias given on host A');
  t.deepEqual(await lookup(cliB, 'client', 'web.names'), [web], 'name.network');
  t.regex(await ok(cliB, ['exec', 'client', '--', 'nslookup', web]), /name = web\.names/, 'PTR of the remote address');
  await until('and host A serves client', async () => (await lookup(cliA, 'web', 'client'))?.includes(client) === true, 15_000, 200);
  t.true(await pings(cliB, 'client', 'web'), 'ping by name across hosts');
  // A rename on host A reaches host B's DNS (as Docker republishes the endpoint's service record).
  await ok(cliA, ['rename', 'web', 'site']);
  await until('host B serves the new name', async () => (await lookup(cliB, 'client', 'site'))?.includes(web) === true, 15_000, 200);
  t.is(await lookup(cliB, 'client', 'web'), undefined, 'and no longer the old one');
  t.deepEqual(await lookup(cliB, 'client', 'www'), [web], 'the alias stays');
  await ok(cliA, ['rename', 'site', 'web']);
  await until('and the name back', async () => (await lookup(cliB, 'client', 'web'))?.includes(web) === true, 15_000, 200);

  const expectedPeers = [{ Name: 'ovn-0', IP: a!.host.address }, { Name: 'ovn-1', IP: b!.host.address }];
  for (const { cli } of [a!, b!]) {
    await until('both hosts in Peers', async () => JSON.stringify(((await inspectNetwork(cli, 'names')).Peers ?? []).sort((x, y) => x.Name.localeCompare(y.Name))) === JSON.stringify(expectedPeers), 15_000, 100);
    t.pass('Peers lists both hosts');
  }

  await ok(cliA, ['rm', '-f', 'web']);
  await until('web no longer resolves on host B', async () => (await lookup(cliB, 'client', 'web')) === undefined, 20_000, 200);
  for (const { cli } of [a!, b!]) {
    await until('host A, with no container left on the network, gone from Peers', async () => JSON.stringify((await inspectNetwork(cli, 'names')).Peers) === JSON.stringify([expectedPeers[1]]), 15_000, 100);
  }
  t.is(await lookup(cliB, 'client', 'www'), undefined, 'nor its alias');
  t.notRegex((await cliB(['exec', 'client', '--', 'nslookup', web])).stdout, /name = web/, 'nor its PTR');

  await ok(cliA, ['run', '-d', '--name', 'db', '--network', 'names', 'sleep', '300']);
  const db = (await inspect(cliA, 'db')).NetworkSettings.Networks['names']!.IPAddress;
  await until('host B serves db', async () => (await lookup(cliB, 'client', 'db'))?.includes(db) === true, 15_000, 200);
  // Host B's daemon restarts: it learns the names from the cluster's table again.
  await b!.restart();
  await until('host B, restarted, serves db again', async () => (await lookup(cliB, 'client', 'db'))?.includes(db) === true, 20_000, 200);

  // Host A dies (kill -9; its container stays): once it is declared dead its names go from host B.
  a!.daemon.process.kill('SIGKILL');
  await until('db no longer resolves on host B once host A is dead', async () => (await lookup(cliB, 'client', 'db')) === undefined, 30_000, 200);
  t.pass('the dead host\'s names are gone');
});

test('an overlay created without --attachable: run and connect refused with Docker\'s words (403), nothing left; with --attachable both work', async (t) => {
  const [a] = await startOverlayCluster(t, 'ova', 1);
  const cli = a!.cli;
  await ok(cli, ['network', 'create', '-d', 'overlay', '--subnet', '10.202.0.0/24', 'sealed']);
  await ok(cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.203.0.0/24', 'open']);
  const refusal = 'Could not attach to network sealed: rpc error: code = PermissionDenied desc = network sealed not manually attachable';

  const run = await cli(['run', '-d', '--name', 'c1', '--network', 'sealed', 'sleep', '300']);
  t.is(run.code, 125, 'as docker run');
  t.true(run.stderr.includes(refusal), run.stderr);
  // As dockerd: the network is joined at start, so the refused start leaves a created container that holds nothing.
  t.is((await inspect(cli, 'c1')).State.Status, 'created', 'c1 stays created');
  t.deepEqual(Object.keys(JSON.parse(await ok(cli, ['network', 'inspect', 'sealed']))[0].Containers ?? {}), [], 'sealed has no endpoint of c1');
  await ok(cli, ['rm', 'c1']);

  await ok(cli, ['run', '-d', '--name', 'c2', '--network', 'open', 'sleep', '300']);
  const connect = await request(a!.daemon.socketPath, 'POST', '/networks/sealed/connect', { Container: 'c2' });
  t.is(connect.status, 403);
  t.true(connect.json<{ message: string }>().message.includes(refusal), connect.text);
  const cliConnect = await cli(['network', 'connect', 'sealed', 'c2']);
  t.is(cliConnect.code, 1, 'as docker network connect');
  t.true(cliConnect.stderr.includes(refusal), cliConnect.stderr);
  t.deepEqual(Object.keys((await inspect(cli, 'c2')).NetworkSettings.Networks), ['open'], 'c2 is on open only');
  t.deepEqual(Object.keys(JSON.parse(await ok(cli, ['network', 'inspect', 'sealed']))[0].Containers ?? {}), [], 'and sealed has no endpoint');
});
