// Docker's network lifecycle for containers, driven by Docker's CLI against netctl's daemon: a
// container holds its networks only while it runs (created or stopped, it holds no address, no
// endpoint, no interface), its start joins every network it is configured on again, and network
// connect and disconnect of a container that does not run change its configuration only.
import test from 'ava';
import fs from 'node:fs';
import { daemonWithCli } from '../helpers/containers';
import { request } from '../helpers/daemon';
import { dockerAgainst } from '../helpers/docker-cli';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';
import { runner } from '../helpers/cli';

const veths = (host: TestNamespace): string[] => host.json<Array<{ ifname: string }>>('ip', 'link', 'show', 'type', 'veth').map((l) => l.ifname);

interface NetworkSettings {
  SandboxKey: string;
  Networks: Record<string, { IPAMConfig: { IPv4Address?: string } | null; Aliases: string[] | null; NetworkID: string; EndpointID: string; Gateway: string; IPAddress: string; IPPrefixLen: number; MacAddress: string }>;
}

test('a stopped container releases its network: its --ip is free for another, network rm succeeds; start joins again with its --ip and aliases', async (t) => {
  const { host, daemon, docker, ok } = await dockerAgainst(t, 'nctl-nlc');
  // The daemon's own JSON: Docker's CLI re-encodes it with its newer API's fields.
  const settings = async (name: string): Promise<NetworkSettings> => JSON.parse((await request(daemon.socketPath, 'GET', `/containers/${name}/json`)).text).NetworkSettings as NetworkSettings;
  const networkId = await ok(['network', 'create', '--subnet', '10.93.0.0/24', 'nlc-net']);
  await ok(['run', '-d', '--name', 'nlc-web', '--network', 'nlc-net', '--ip', '10.93.0.50', '--network-alias', 'web', 'busybox', 'sleep', '300']);
  const webId = await ok(['inspect', '--format', '{{.Id}}', 'nlc-web']);
  await ok(['run', '-d', '--name', 'nlc-peer', '--network', 'nlc-net', 'busybox', 'sleep', '300']);
  t.is(veths(host).length, 2);
  const running = await settings('nlc-web');
  t.true(fs.existsSync(running.SandboxKey));

  await ok(['stop', '-t', '1', 'nlc-web']);
  const stopped = await settings('nlc-web');
  // As dockerd 20.10 shows a stopped container: the configuration stays, the run's values are empty.
  t.deepEqual(stopped.Networks['nlc-net'], {
    IPAMConfig: { IPv4Address: '10.93.0.50' },
    Links: null,
    Aliases: ['web', webId.slice(0, 12)],
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: '',
    DriverOpts: null,
  } as unknown as NetworkSettings['Networks'][string]);
  t.false(fs.existsSync(running.SandboxKey), 'its namespace is gone');
  t.is(veths(host).length, 1, 'and its veth');
  t.deepEqual(Object.values(JSON.parse(await ok(['network', 'inspect', '--format', '{{json .Containers}}', 'nlc-net'])) as Record<string, { Name: string }>).map((c) => c.Name), ['nlc-peer']);

  // Its address is free: another container takes it, and gives it back.
  await ok(['run', '-d', '--name', 'nlc-taker', '--network', 'nlc-net', '--ip', '10.93.0.50', 'busybox', 'sleep', '300']);
  const taken = await docker(['start', 'nlc-web']);
  t.not(taken.code, 0);
  t.regex(taken.stderr, /10\.93\.0\.50/);
  t.is(veths(host).length, 2, 'the failed start left nothing');
  await ok(['rm', '-f', 'nlc-taker']);

  await ok(['start', 'nlc-web']);
  t.is((await settings('nlc-web')).Networks['nlc-net']!.IPAddress, '10.93.0.50');
  await ok(['exec', 'nlc-peer', 'ping', '-c', '1', '-W', '5', '10.93.0.50']);
  t.regex(await ok(['exec', 'nlc-peer', 'nslookup', 'web']), /10\.93\.0\.50/, 'its alias resolves again');

  // With only stopped containers on it, the network is removable; a start then says it is gone, as dockerd.
  await ok(['stop', '-t', '1', 'nlc-web', 'nlc-peer']);
  t.deepEqual(veths(host), []);
  await ok(['network', 'rm', 'nlc-net']);
  const gone = await request(daemon.socketPath, 'POST', '/containers/nlc-web/start');
  t.is(gone.status, 404);
  t.is(JSON.parse(gone.text).message, `network ${networkId} not found`);
  t.deepEqual(veths(host), []);
  t.deepEqual(fs.readdirSync(`${daemon.runDir}/netns`), [], 'no sandbox was left by the failed start');

  // A network of that name made again is another network: disconnecting from the gone one lets the container start.
  await ok(['network', 'create', '--subnet', '10.93.0.0/24', 'nlc-net']);
  t.not((await docker(['start', 'nlc-web'])).code, 0);
  await ok(['network', 'disconnect', networkId, 'nlc-web']);
  await ok(['network', 'connect', 'nlc-net', 'nlc-web']);
  await ok(['start', 'nlc-web']);
  t.regex((await settings('nlc-web')).Networks['nlc-net']!.IPAddress, /^10\.93\.0\.\d+$/);
  await ok(['rm', '-f', 'nlc-web', 'nlc-peer']);

  // A created container holds nothing either: the network is removable under it.
  await ok(['network', 'create', '--subnet', '10.96.0.0/24', 'nlc-other']);
  await ok(['create', '--name', 'nlc-created', '--network', 'nlc-other', '--ip', '10.96.0.7', 'busybox', 'sleep', '300']);
  const created = (await settings('nlc-created')).Networks['nlc-other']!;
  t.like(created, { IPAMConfig: { IPv4Address: '10.96.0.7' }, Aliases: null, NetworkID: '', EndpointID: '', IPAddress: '' });
  t.is(await ok(['network', 'inspect', '--format', '{{json .Containers}}', 'nlc-other']), '{}');
  t.deepEqual(veths(host), []);
  await ok(['network', 'rm', 'nlc-other']);
  const startGone = await docker(['start', 'nlc-created']);
  t.not(startGone.code, 0);
  t.regex(startGone.stderr, /network nlc-other not found/);
});

test('network connect of a stopped container is applied at its start; disconnect of a stopped one removes it; none and host are refused with Docker\'s 400', async (t) => {
  const { host, daemon, docker, ok } = await dockerAgainst(t, 'nctl-ncs');
  const settings = async (name: string): Promise<NetworkSettings> => JSON.parse(await ok(['inspect', '--format', '{{json .NetworkSettings}}', name])) as NetworkSettings;
  await ok(['network', 'create', '--subnet', '10.97.0.0/24', 'ncs-front']);
  await ok(['network', 'create', '--subnet', '10.98.0.0/24', 'ncs-back']);
  await ok(['run', '-d', '--name', 'ncs-app', '--network', 'ncs-front', 'busybox', 'sleep', '300']);
  await ok(['run', '-d', '--name', 'ncs-db', '--network', 'ncs-back', 'busybox', 'sleep', '300']);
  await ok(['stop', '-t', '1', 'ncs-app']);

  await ok(['network', 'connect', '--ip', '10.98.0.9', '--alias', 'api', 'ncs-back', 'ncs-app']);
  t.like((await settings('ncs-app')).Networks['ncs-back'], { IPAMConfig: { IPv4Address: '10.98.0.9' }, NetworkID: '', EndpointID: '', IPAddress: '' });
  t.deepEqual(Object.keys(JSON.parse(await ok(['network', 'inspect', '--format', '{{json .Containers}}', 'ncs-back'])) as object).length, 1, 'only ncs-db is on it');
  t.is(veths(host).length, 1);
  // A second connect of a stopped container replaces the first, as dockerd (200).
  await ok(['network', 'connect', '--ip', '10.98.0.9', '--alias', 'api', 'ncs-back', 'ncs-app']);

  await ok(['start', 'ncs-app']);
  const started = await settings('ncs-app');
  t.regex(started.Networks['ncs-front']!.IPAddress, /^10\.97\.0\.\d+$/);
  t.is(started.Networks['ncs-back']!.IPAddress, '10.98.0.9');
  await ok(['exec', 'ncs-db', 'ping', '-c', '1', '-W', '5', '10.98.0.9']);
  t.regex(await ok(['exec', 'ncs-db', 'nslookup', 'api']), /10\.98\.0\.9/);

  const noneConflict = /container cannot be connected to multiple networks with one of the networks in private \(none\) mode/;
  const hostConflict = /container cannot be disconnected from host network or connected to host network/;
  const refused = async (args: string[], message: RegExp): Promise<void> => {
    const result = await docker(args);
    t.is(result.code, 1, args.join(' '));
    t.regex(result.stderr, message);
  };
  for (const state of ['running', 'stopped']) {
    if (state === 'stopped') await ok(['stop', '-t', '1', 'ncs-app']);
    await refused(['network', 'connect', 'none', 'ncs-app'], noneConflict);
    await refused(['network', 'connect', 'host', 'ncs-app'], hostConflict);
    const reply = await request(daemon.socketPath, 'POST', '/networks/none/connect', { Container: 'ncs-app' });
    t.is(reply.status, 400, state);
  }
  await ok(['run', '-d', '--name', 'ncs-none', '--network', 'none', 'busybox', 'sleep', '300']);
  await refused(['network', 'connect', 'ncs-front', 'ncs-none'], noneConflict);
  await ok(['stop', '-t', '1', 'ncs-none']);
  await refused(['network', 'connect', 'ncs-front', 'ncs-none'], noneConflict);

  // Stopped: disconnect takes the network from its configuration; the next start does not join it.
  await ok(['network', 'disconnect', 'ncs-back', 'ncs-app']);
  t.deepEqual(Object.keys((await settings('ncs-app')).Networks), ['ncs-front']);
  const again = await request(daemon.socketPath, 'POST', '/networks/ncs-back/disconnect', { Container: 'ncs-app' });
  t.is(again.status, 403);
  t.regex(JSON.parse(again.text).message, /^container [0-9a-f]{64} is not connected to the network ncs-back$/);
  await ok(['start', 'ncs-app']);
  t.deepEqual(Object.keys((await settings('ncs-app')).Networks), ['ncs-front']);
  t.is(await ok(['exec', 'ncs-app', 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "']), 'eth0 lo');

  // Connected while it runs: joined again by a restart, with its static address.
  await ok(['network', 'connect', '--ip', '10.98.0.19', 'ncs-back', 'ncs-app']);
  await ok(['restart', '-t', '1', 'ncs-app']);
  t.is((await settings('ncs-app')).Networks['ncs-back']!.IPAddress, '10.98.0.19');
  await ok(['exec', 'ncs-db', 'ping', '-c', '1', '-W', '5', '10.98.0.19']);
});

test('after a daemon restart, a stopped container holds nothing and a running one keeps its network', async (t) => {
  const host = createTestNamespace(t, 'nctl-nlr');
  const { daemon: first } = await daemonWithCli(t, { netns: host.path, args: ['--bridge', 'none'] });
  const cli = (socketPath: string) => runner(['docker', '-H', `unix://${socketPath}`], {}, 30_000);
  let docker = cli(first.socketPath);
  const ok = async (args: string[]): Promise<string> => {
    const result = await docker(args);
    t.is(result.code, 0, `docker ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  await ok(['network', 'create', '--subnet', '10.99.0.0/24', 'nlr-net']);
  await ok(['run', '-d', '--name', 'nlr-up', '--network', 'nlr-net', '--ip', '10.99.0.10', 'busybox', 'sleep', '300']);
  await ok(['run', '-d', '--name', 'nlr-down', '--network', 'nlr-net', '--ip', '10.99.0.11', 'busybox', 'sleep', '300']);
  await ok(['stop', '-t', '1', 'nlr-down']);
  await first.stop();

  // Its teardown removes the containers.
  const { daemon: second } = await daemonWithCli(t, { netns: host.path, args: ['--bridge', 'none'], root: first.root, runDir: first.runDir });
  docker = cli(second.socketPath);
  t.is(await ok(['inspect', '--format', '{{.State.Status}} {{(index .NetworkSettings.Networks "nlr-net").IPAddress}}', 'nlr-up']), 'running 10.99.0.10');
  t.is(await ok(['inspect', '--format', '{{.State.Status}} {{(index .NetworkSettings.Networks "nlr-net").IPAddress}}', 'nlr-down']), 'exited');
  t.is(veths(host).length, 1);
  await ok(['start', 'nlr-down']);
  await ok(['exec', 'nlr-up', 'ping', '-c', '1', '-W', '5', '10.99.0.11']);
});

test('addresses are the lowest free, as dockerd gives them on local networks: a restarted container gets its address back, a released one is reused', async (t) => {
  const { docker, ok } = await dockerAgainst(t, 'nctl-nlo');
  await ok(['network', 'create', '--subnet', '10.94.0.0/24', 'nlo-net']);
  t.teardown(() => docker(['network', 'rm', 'nlo-net']).then(() => undefined));
  const addressOf = (name: string): Promise<string> => ok(['inspect', '-f', '{{(index .NetworkSettings.Networks "nlo-net").IPAddress}}', name]);
  await ok(['run', '-d', '--name', 'nlo-a', '--network', 'nlo-net', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'nlo-a']).then(() => undefined));
  t.is(await addressOf('nlo-a'), '10.94.0.2');
  for (let i = 0; i < 2; i++) {
    await ok(['restart', '-t', '0', 'nlo-a']);
    t.is(await addressOf('nlo-a'), '10.94.0.2');
  }
  for (let i = 0; i < 2; i++) t.is(await ok(['run', '--rm', '--network', 'nlo-net', 'busybox', 'sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'"]), '10.94.0.3/24');
  // On the default bridge too (dockerd's .2 for the first container after others have come and gone).
  await ok(['run', '--rm', 'busybox', 'true']);
  await ok(['run', '-d', '--name', 'nlo-b', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'nlo-b']).then(() => undefined));
  t.is(await ok(['inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', 'nlo-b']), '172.17.0.2');
});

test("a static address on the default bridge is refused at start and connect with dockerd's 400, and holds nothing", async (t) => {
  const { host, docker, ok } = await dockerAgainst(t, 'nctl-nls');
  const message = /user specified IP address is supported on user defined networks only/;
  const run = await docker(['run', '--name', 'nls-a', '--ip', '172.17.0.50', 'busybox', 'true']);
  t.is(run.code, 125, run.stderr);
  t.regex(run.stderr, message);
  t.teardown(() => docker(['rm', '-f', 'nls-a']).then(() => undefined));
  // As with dockerd: created (the check is the start's), no sandbox, no interface.
  t.is(await ok(['inspect', '-f', '{{.State.Status}} {{.NetworkSettings.SandboxKey}}', 'nls-a']), 'created');
  t.deepEqual(veths(host), []);
  const start = await docker(['start', 'nls-a']);
  t.not(start.code, 0);
  t.regex(start.stderr, message);

  await ok(['network', 'create', 'nls-net']);
  t.teardown(() => docker(['network', 'rm', 'nls-net']).then(() => undefined));
  await ok(['create', '--name', 'nls-b', '--network', 'nls-net', 'busybox', 'sleep', '300']);
  t.teardown(() => docker(['rm', '-f', 'nls-b']).then(() => undefined));
  for (const state of ['created', 'running']) {
    const connect = await docker(['network', 'connect', '--ip', '172.17.0.51', 'bridge', 'nls-b']);
    t.is(connect.code, 1, `${state}: ${connect.stderr}`);
    t.regex(connect.stderr, message);
    t.is(await ok(['inspect', '-f', '{{len .NetworkSettings.Networks}}', 'nls-b']), '1', state);
    if (state === 'created') await ok(['start', 'nls-b']);
  }
  // Without an address the default bridge takes it, as in dockerd.
  await ok(['network', 'connect', 'bridge', 'nls-b']);
  t.regex(await ok(['inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', 'nls-b']), /^172\.17\.0\.\d+$/);
});
