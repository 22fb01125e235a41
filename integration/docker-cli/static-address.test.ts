// A static address (--ip, --ip6) only in a subnet the user gave the network, as dockerd 20.10
// refuses it: `create` is accepted, its start and any connect get a 400, and nothing is left half-done.
import test from 'ava';
import { runner } from '../helpers/cli';
import { daemonWithCli } from '../helpers/containers';
import { request } from '../helpers/daemon';
import { dockerAgainst } from '../helpers/docker-cli';
import { createTestNamespace } from '../helpers/netns';

const NO_SUBNET = 'user specified IP address is supported only when connecting to networks with user configured subnets';

test('--ip on a network created without --subnet: run and connect are refused with dockerd\'s 400; with --subnet it is given', async (t) => {
  const { host, daemon, docker, ok } = await dockerAgainst(t, 'nctl-sta');
  await ok(['network', 'create', 'sta-auto']);
  const subnet = JSON.parse(await ok(['network', 'inspect', '--format', '{{json .IPAM.Config}}', 'sta-auto'])) as Array<{ Subnet: string }>;
  const free = subnet[0]!.Subnet.replace(/\.0\/\d+$/, '.50');

  const run = await docker(['run', '-d', '--name', 'sta-run', '--network', 'sta-auto', '--ip', free, 'busybox', 'sleep', '300']);
  t.not(run.code, 0);
  t.true(run.stderr.includes(NO_SUBNET), run.stderr);
  t.is(await ok(['inspect', '--format', '{{.State.Running}}', 'sta-run']), 'false', 'created, as dockerd creates it, never started');
  t.deepEqual(host.json<unknown[]>('ip', 'link', 'show', 'type', 'veth'), [], 'the failed start left no interface');

  await ok(['run', '-d', '--name', 'sta-peer', 'busybox', 'sleep', '300']);
  const connect = await docker(['network', 'connect', '--ip', free, 'sta-auto', 'sta-peer']);
  t.not(connect.code, 0);
  t.true(connect.stderr.includes(NO_SUBNET), connect.stderr);
  const api = await request(daemon.socketPath, 'POST', '/v1.41/networks/sta-auto/connect', { Container: 'sta-peer', EndpointConfig: { IPAMConfig: { IPv4Address: free } } });
  t.is(api.status, 400);
  t.is(api.json<{ message: string }>().message, NO_SUBNET);
  t.is(await ok(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'sta-peer']).then((j) => Object.keys(JSON.parse(j) as object).join()), 'bridge', 'the refused connect recorded nothing');

  await ok(['network', 'create', '--subnet', '10.94.0.0/24', 'sta-given']);
  await ok(['network', 'connect', '--ip', '10.94.0.50', 'sta-given', 'sta-peer']);
  t.is(await ok(['inspect', '--format', '{{(index .NetworkSettings.Networks "sta-given").IPAddress}}', 'sta-peer']), '10.94.0.50');
  await ok(['rm', '-f', 'sta-run', 'sta-peer']);
});

test('NetworkSettings.Networks.*.IPAMConfig as dockerd 20.10 shows it: null without --ip, the addresses with it, {} after a connect that sent an empty one', async (t) => {
  const { daemon, ok } = await dockerAgainst(t, 'nctl-ipc');
  const ipamConfigs = async (name: string): Promise<Record<string, unknown>> => {
    const networks = JSON.parse((await request(daemon.socketPath, 'GET', `/v1.41/containers/${name}/json`)).text).NetworkSettings.Networks as Record<string, { IPAMConfig: unknown }>;
    return Object.fromEntries(Object.entries(networks).map(([network, settings]) => [network, settings.IPAMConfig]));
  };
  await ok(['network', 'create', '--subnet', '10.95.0.0/24', 'ipc-a']);
  await ok(['network', 'create', '--subnet', '10.95.1.0/24', 'ipc-b']);
  await ok(['network', 'create', 'ipc-c']);
  await ok(['run', '-d', '--name', 'ipc-plain', '--network', 'ipc-a', 'busybox', 'sleep', '300']);
  await ok(['run', '-d', '--name', 'ipc-fixed', '--network', 'ipc-a', '--ip', '10.95.0.9', 'busybox', 'sleep', '300']);
  t.deepEqual(await ipamConfigs('ipc-plain'), { 'ipc-a': null });
  t.deepEqual(await ipamConfigs('ipc-fixed'), { 'ipc-a': { IPv4Address: '10.95.0.9' } });

  await ok(['network', 'connect', 'ipc-b', 'ipc-plain']);
  await ok(['network', 'connect', '--ip', '10.95.1.20', 'ipc-b', 'ipc-fixed']);
  t.is((await request(daemon.socketPath, 'POST', '/v1.41/networks/ipc-c/connect', { Container: 'ipc-plain' })).status, 200);
  t.deepEqual(await ipamConfigs('ipc-plain'), { 'ipc-a': null, 'ipc-b': {}, 'ipc-c': null });
  t.deepEqual(await ipamConfigs('ipc-fixed'), { 'ipc-a': { IPv4Address: '10.95.0.9' }, 'ipc-b': { IPv4Address: '10.95.1.20' } });
  await ok(['restart', '-t', '1', 'ipc-plain']);
  t.deepEqual(await ipamConfigs('ipc-plain'), { 'ipc-a': null, 'ipc-b': {}, 'ipc-c': null }, 'kept across a restart');
  await ok(['rm', '-f', 'ipc-plain', 'ipc-fixed']);
});

test('a daemon restart keeps which subnets the user gave: --ip is still refused on the network without one, given on the other', async (t) => {
  const host = createTestNamespace(t, 'nctl-str');
  const { daemon: first } = await daemonWithCli(t, { netns: host.path, args: ['--bridge', 'none'] });
  const cli = (socketPath: string) => runner(['docker', '-H', `unix://${socketPath}`], {}, 30_000);
  await cli(first.socketPath)(['network', 'create', 'str-auto']);
  await cli(first.socketPath)(['network', 'create', '--subnet', '10.96.5.0/24', 'str-given']);
  await first.stop();
  const { daemon: second } = await daemonWithCli(t, { netns: host.path, args: ['--bridge', 'none'], root: first.root, runDir: first.runDir });
  const docker = cli(second.socketPath);
  const subnet = JSON.parse((await docker(['network', 'inspect', '--format', '{{json .IPAM.Config}}', 'str-auto'])).stdout) as Array<{ Subnet: string }>;
  const refused = await docker(['run', '-d', '--name', 'str-a', '--network', 'str-auto', '--ip', subnet[0]!.Subnet.replace(/\.0\/\d+$/, '.7'), 'busybox', 'sleep', '300']);
  t.true(refused.stderr.includes(NO_SUBNET), refused.stderr);
  const given = await docker(['run', '-d', '--name', 'str-g', '--network', 'str-given', '--ip', '10.96.5.7', 'busybox', 'sleep', '300']);
  t.is(given.code, 0, given.stderr);
  await docker(['rm', '-f', 'str-a', 'str-g']);
});
