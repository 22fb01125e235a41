// Overlay egress as Docker's: a container on a non-internal overlay also gets a leg on
// netctl_gwbridge (a NAT'd host bridge whose legs are isolated from each other) carrying its
// default route, reaches an address outside the cluster (a test host on the underlay playing the
// internet, which has no route back to any container subnet: only NAT brings answers back), and
// publishes ports through that leg; an --internal overlay has no leg and no way out.
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { netctlCli, type Runner } from '../helpers/cli';
import { inspect, ok, pings } from '../helpers/containers';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { startEtcd } from '../helpers/etcd';
import { createUnderlay, type UnderlayHost } from '../helpers/underlay';
import { until } from '../../test/helpers/until';

interface Route {
  dst: string;
  gateway?: string;
  dev: string;
}

interface NetworkInspect {
  Id: string;
  Options: Record<string, string>;
  Containers: Record<string, { Name: string; IPv4Address: string }>;
}

const networkInspect = async (cli: Runner, name: string): Promise<NetworkInspect> => (JSON.parse(await ok(cli, ['network', 'inspect', name])) as NetworkInspect[])[0]!;

/** A container's routes and interface names, read from its namespace with the host's iproute2. */
function routesOf(sandboxKey: string): Route[] {
  return JSON.parse(execFileSync('nsenter', [`--net=${sandboxKey}`, 'ip', '-j', '-4', 'route'], { encoding: 'utf8' })) as Route[];
}

/** The body `url` answers inside container `from` (busybox nc), '' when nothing answers within 3 s. */
async function fetchFrom(cli: Runner, from: string, host: string, port: number): Promise<string> {
  const run = await cli(['exec', from, '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${port}`]);
  return run.code === 0 ? (run.stdout.split('\r\n\r\n')[1]?.trim() ?? '') : '';
}

/** The body an HTTP GET gets from inside test host `ns` (bash's /dev/tcp), '' when nothing answers. */
function fetchIn(nsPath: string, host: string, port: number): string {
  try {
    const reply = execFileSync('nsenter', [`--net=${nsPath}`, 'timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return reply.split('\r\n\r\n')[1]?.trim() ?? '';
  } catch {
    return '';
  }
}

/** busybox httpd serving `body` on port 8080 of a test host; stopped with the test. */
async function serveInternet(t: ExecutionContext, host: UnderlayHost, body: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-www-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'index.html'), `${body}\n`);
  const httpd = spawn('nsenter', [`--net=${host.ns.path}`, 'busybox', 'httpd', '-f', '-p', '8080', '-h', dir], { stdio: 'ignore' });
  const ended = new Promise((resolve) => httpd.once('exit', resolve));
  t.teardown(async () => {
    httpd.kill('SIGKILL');
    await ended;
  });
  await until('the internet host to serve', () => fetchIn(host.ns.path, host.address, 8080) === body);
}

async function clusterHost(t: ExecutionContext, extraArgs: string[] = []): Promise<{ daemon: TestDaemon; cli: Runner; host: UnderlayHost; internet: UnderlayHost; restart(): Promise<void> }> {
  const underlay = createUnderlay(t);
  const etcdHost = underlay.addHost();
  await startEtcd(t, { netns: etcdHost.ns.path, host: etcdHost.address });
  const host = underlay.addHost();
  const internet = underlay.addHost();
  const args = ['--bridge', 'none', '--cluster-store', `etcd://${etcdHost.address}:2379`, '--advertise-addr', host.address, '--node-name', 'gw-a', ...extraArgs];
  const daemon = await startDaemon(t, { netns: host.ns.path, args });
  const cli = netctlCli(daemon.socketPath);
  const restart = async (): Promise<void> => {
    await daemon.stop();
    await startDaemon(t, { netns: host.ns.path, args, root: daemon.root, runDir: daemon.runDir });
  };
  t.teardown(async () => {
    const ids = (await cli(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await cli(['rm', '-f', ...ids]);
  });
  return { daemon, cli, host, internet, restart };
}

test('a container on an overlay reaches the internet through its NAT\'d leg on netctl_gwbridge; legs do not reach each other; ports publish through it', async (t) => {
  const { cli, host, internet } = await clusterHost(t);
  await serveInternet(t, internet, 'hello from the internet');

  await ok(cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.201.0.0/24', 'ov1']);
  await ok(cli, ['run', '-d', '--name', 'one', '--network', 'ov1', 'sleep', '300']);
  await ok(cli, ['run', '-d', '--name', 'two', '--network', 'ov1', 'sleep', '300']);

  // The leg: netctl_gwbridge made on demand, Docker's docker_gwbridge options, one gateway_ endpoint per container.
  const gwbridge = await networkInspect(cli, 'netctl_gwbridge');
  t.like(gwbridge.Options, { 'com.docker.network.bridge.name': 'netctl_gwbridge', 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'true' });
  const one = await inspect(cli, 'one');
  const two = await inspect(cli, 'two');
  const legOf = (id: string): { Name: string; IPv4Address: string } => gwbridge.Containers[id]!;
  t.regex(legOf(one.Id).Name, /^gateway_[0-9a-f]{12}$/);
  t.truthy(legOf(two.Id));
  t.deepEqual(Object.keys(one.NetworkSettings.Networks), ['ov1'], "the leg is not one of the container's networks");
  const hosts = await ok(cli, ['exec', 'one', 'cat', '/etc/hosts']);
  t.true(hosts.includes(one.NetworkSettings.Networks['ov1']!.IPAddress), hosts);
  t.false(hosts.includes(legOf(one.Id).IPv4Address.split('/')[0]!), `no /etc/hosts line for the leg: ${hosts}`);

  // eth0 on the overlay carries only its subnet; eth1, the leg, the default route.
  const routes = routesOf(one.NetworkSettings.SandboxKey);
  const gateway = routes.find((r) => r.dst === 'default');
  t.is(gateway?.dev, 'eth1', JSON.stringify(routes));
  t.is(gateway?.gateway, legOf(one.Id).IPv4Address.replace(/\.\d+\/\d+$/, '.1'));
  t.true(routes.some((r) => r.dst === '10.201.0.0/24' && r.dev === 'eth0'), JSON.stringify(routes));

  // Out through NAT: the internet host has no route to the leg's subnet, so only a masqueraded flow gets its answer.
  t.true(await pings(cli, 'one', internet.address), 'ping to the internet host');
  t.is(await fetchFrom(cli, 'one', internet.address, 8080), 'hello from the internet');

  // The legs are isolated from each other (ICC off); the overlay still joins the two.
  const twoLeg = legOf(two.Id).IPv4Address.split('/')[0]!;
  t.false(await pings(cli, 'one', twoLeg, 1), "one must not reach two's leg");
  t.true(await pings(cli, 'one', two.NetworkSettings.Networks['ov1']!.IPAddress), 'over the overlay they do');

  // A port of an overlay-only container, published through its leg, reached from the underlay.
  await ok(cli, ['run', '-d', '--name', 'web', '--network', 'ov1', '-p', '8080:80', '--', 'sh', '-c', 'mkdir -p /www && echo hello from web > /www/index.html && exec httpd -f -p 80 -h /www']);
  await until('the published port to answer from the internet host', () => fetchIn(internet.ns.path, host.address, 8080) !== '', 15_000, 200);
  t.is(fetchIn(internet.ns.path, host.address, 8080), 'hello from web');

  // Everything goes with the containers; the legs' network stays, empty, as Docker's.
  await ok(cli, ['rm', '-f', 'one', 'two', 'web']);
  t.deepEqual((await networkInspect(cli, 'netctl_gwbridge')).Containers, {});
  t.deepEqual(host.ns.json<Array<{ ifname: string }>>('ip', 'link', 'show', 'type', 'veth').map((l) => l.ifname).filter((name) => name !== 'eth0'), [], 'no veth left on the host but its underlay link');
  t.notRegex(host.ns.run('iptables-save', '-t', 'nat'), /--dport 8080/, 'no published port left');
  await ok(cli, ['network', 'rm', 'ov1', 'netctl_gwbridge']);
});

test('an --internal overlay gives no leg and no way out', async (t) => {
  const { cli, internet } = await clusterHost(t);
  await serveInternet(t, internet, 'unreachable');
  await ok(cli, ['network', 'create', '-d', 'overlay', '--attachable', '--internal', '--subnet', '10.202.0.0/24', 'inner']);
  await ok(cli, ['run', '-d', '--name', 'shut', '--network', 'inner', 'sleep', '300']);
  const shut = await inspect(cli, 'shut');
  const routes = routesOf(shut.NetworkSettings.SandboxKey);
  t.false(routes.some((r) => r.dst === 'default'), JSON.stringify(routes));
  t.deepEqual(routes.map((r) => r.dev), ['eth0']);
  t.false((await ok(cli, ['network', 'ls'])).includes('netctl_gwbridge'), 'no leg, so no netctl_gwbridge either');
  t.false(await pings(cli, 'shut', internet.address, 1));
  t.is(await fetchFrom(cli, 'shut', internet.address, 8080), '');
  await ok(cli, ['rm', '-f', 'shut']);
  await ok(cli, ['network', 'rm', 'inner']);
});

test('a bridge network offering a gateway takes over from the leg, with the published ports; disconnected, the leg comes back with them', async (t) => {
  const { cli, host, internet } = await clusterHost(t);
  await ok(cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.203.0.0/24', 'ov3']);
  await ok(cli, ['network', 'create', '--subnet', '10.204.0.0/24', 'br3']);
  await ok(cli, ['run', '-d', '--name', 'web', '--network', 'ov3', '-p', '8080:80', '--', 'sh', '-c', 'mkdir -p /www && echo hello from web > /www/index.html && exec httpd -f -p 80 -h /www']);
  const web = await inspect(cli, 'web');
  const answers = (): Promise<void> => until('the published port to answer from the internet host', () => fetchIn(internet.ns.path, host.address, 8080) === 'hello from web', 15_000, 200);
  const defaultRoute = (): Route | undefined => routesOf(web.NetworkSettings.SandboxKey).find((r) => r.dst === 'default');
  const legs = async (): Promise<string[]> => Object.values((await networkInspect(cli, 'netctl_gwbridge')).Containers).map((c) => c.Name);
  await answers();
  const sandboxId = (web.NetworkSettings as unknown as { SandboxID: string }).SandboxID;
  t.deepEqual(await legs(), [`gateway_${sandboxId.slice(0, 12)}`], 'named after the sandbox, as Docker names it');

  await ok(cli, ['network', 'connect', 'br3', 'web']);
  t.deepEqual(await legs(), [], 'the leg went');
  t.is(defaultRoute()?.gateway, '10.204.0.1', JSON.stringify(routesOf(web.NetworkSettings.SandboxKey)));
  await answers();

  await ok(cli, ['network', 'disconnect', 'br3', 'web']);
  t.is((await legs()).length, 1, 'the leg came back');
  t.regex(defaultRoute()?.gateway ?? '', /\.1$/);
  t.not(defaultRoute()?.gateway, '10.204.0.1');
  await answers();
  await ok(cli, ['rm', '-f', 'web']);
  await ok(cli, ['network', 'rm', 'ov3', 'br3', 'netctl_gwbridge']);
});

test('a restarted daemon keeps the leg: the container still gets out, and its removal still takes the leg', async (t) => {
  const { cli, host, internet, restart } = await clusterHost(t);
  await serveInternet(t, internet, 'still there');
  await ok(cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.205.0.0/24', 'ov5']);
  await ok(cli, ['run', '-d', '--name', 'keeper', '--network', 'ov5', 'sleep', '300']);
  t.is(await fetchFrom(cli, 'keeper', internet.address, 8080), 'still there');
  await restart();
  t.is(Object.keys((await networkInspect(cli, 'netctl_gwbridge')).Containers).length, 1);
  t.deepEqual(Object.keys((await inspect(cli, 'keeper')).NetworkSettings.Networks), ['ov5']);
  t.is(await fetchFrom(cli, 'keeper', internet.address, 8080), 'still there');
  await ok(cli, ['rm', '-f', 'keeper']);
  t.deepEqual((await networkInspect(cli, 'netctl_gwbridge')).Containers, {});
  t.deepEqual(host.ns.json<Array<{ ifname: string }>>('ip', 'link', 'show', 'type', 'veth').map((l) => l.ifname).filter((name) => name !== 'eth0'), []);
  await ok(cli, ['network', 'rm', 'ov5', 'netctl_gwbridge']);
});

test('a leg that cannot be made (no local pool left for netctl_gwbridge) refuses the run, saying so, and leaves nothing', async (t) => {
  const { cli, host } = await clusterHost(t, ['--default-address-pool', 'base=10.206.0.0/24,size=24']);
  await ok(cli, ['network', 'create', 'takes-the-pool']);
  await ok(cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.207.0.0/24', 'ov6']);
  const run = await cli(['run', '-d', '--name', 'stuck', '--network', 'ov6', 'sleep', '300']);
  t.not(run.code, 0);
  t.regex(run.stderr, /the sandbox's way out, a leg on netctl_gwbridge, could not be made: .*pool/);
  t.false((await ok(cli, ['network', 'ls'])).includes('netctl_gwbridge'));
  t.deepEqual((await networkInspect(cli, 'ov6')).Containers, {}, 'no endpoint left on the overlay');
  t.deepEqual(host.ns.json<Array<{ ifname: string }>>('ip', 'link', 'show', 'type', 'veth').map((l) => l.ifname).filter((name) => name !== 'eth0'), []);
  // As dockerd: networks are joined at start, so the refused start leaves the container created, holding nothing.
  t.is((await inspect(cli, 'stuck')).State.Status, 'created');
  await ok(cli, ['network', 'rm', 'ov6', 'takes-the-pool']);
});
