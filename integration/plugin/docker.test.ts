// netctl as a Docker network and IPAM plugin, driven by a real dockerd in the same test host:
// containers on a plugin network reach each other by address and by name (Docker's DNS),
// connect/disconnect work, removal leaves nothing behind, and a netctl restart keeps them working.
import crypto from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { startDaemon, type TestDaemon } from '../helpers/daemon';
import { startTestDockerd, type TestDockerd } from '../helpers/dockerd';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

interface Setup {
  host: TestNamespace;
  daemon: TestDaemon;
  dockerd: TestDockerd;
  plugin: string;
}

async function setup(t: ExecutionContext): Promise<Setup> {
  const host = createTestNamespace(t, 'nctl-plug');
  host.run('ip', 'link', 'set', 'lo', 'up');
  // Docker looks in /run/docker/plugins: a name no other test uses, its socket gone when the daemon stops.
  const plugin = `nctl-test-${crypto.randomBytes(4).toString('hex')}`;
  const daemon = await startDaemon(t, { netns: host.path, args: ['--bridge', 'none', '--docker-plugin', plugin] });
  const dockerd = await startTestDockerd(t, host.name);
  return { host, daemon, dockerd, plugin };
}

/** Links of the test host besides loopback. */
const links = (host: TestNamespace): string[] => host.json<Array<{ ifname: string }>>('ip', 'link', 'show').map((l) => l.ifname).filter((n) => n !== 'lo');

async function run(dockerd: TestDockerd, network: string, name: string): Promise<void> {
  await dockerd.docker('run', '-d', '--name', name, '--network', network, dockerd.image, 'sleep', '600');
}

/** Ping from a container, a few tries (the first may wait for ARP on a busy machine). */
async function pings(dockerd: TestDockerd, from: string, to: string): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await dockerd.docker('exec', from, 'ping', '-c', '1', '-W', '2', to);
      return true;
    } catch {
      // Try again.
    }
  }
  return false;
}

const addressOf = async (dockerd: TestDockerd, container: string, network: string): Promise<string> =>
  (await dockerd.docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container)).trim();

test('containers on a plugin network ping each other by address and name; connect, disconnect and rm leave nothing', async (t) => {
  const { host, dockerd, plugin } = await setup(t);
  await dockerd.docker('network', 'create', '-d', plugin, '--subnet', '10.77.0.0/24', 'pn');
  t.teardown(() => dockerd.docker('rm', '-f', 'c1', 'c2', 'c3').catch(() => undefined));
  await run(dockerd, 'pn', 'c1');
  await run(dockerd, 'pn', 'c2');
  const c2 = await addressOf(dockerd, 'c2', 'pn');
  t.regex(c2, /^10\.77\.0\.\d+$/);
  t.true(await pings(dockerd, 'c1', c2), 'c1 reaches c2 by address');
  t.true(await pings(dockerd, 'c1', 'c2'), 'c1 reaches c2 by name');
  // The container's interface is eth0 with Docker's address, its default route via the bridge's gateway.
  const pid = (await dockerd.docker('inspect', '-f', '{{.State.Pid}}', 'c1')).trim();
  const routes = host.run('nsenter', `--net=/proc/${pid}/ns/net`, 'ip', 'route', 'show', 'default');
  t.regex(routes, /default via 10\.77\.0\.1 dev eth0/);

  // connect / disconnect a container of a second plugin network
  await dockerd.docker('network', 'create', '-d', plugin, '--subnet', '10.78.0.0/24', 'pn2');
  await run(dockerd, 'pn2', 'c3');
  await dockerd.docker('network', 'connect', 'pn', 'c3');
  t.true(await pings(dockerd, 'c3', 'c1'), 'c3 reaches c1 after connect');
  t.true(await pings(dockerd, 'c3', c2), 'c3 reaches c2 too');
  await dockerd.docker('network', 'disconnect', 'pn', 'c3');
  const c3Pid = (await dockerd.docker('inspect', '-f', '{{.State.Pid}}', 'c3')).trim();
  const c3Addresses = host.run('nsenter', `--net=/proc/${c3Pid}/ns/net`, 'ip', '-4', '-o', 'addr', 'show');
  t.notRegex(c3Addresses, /10\.77\./, 'c3 has no address on pn after disconnect');
  t.regex(c3Addresses, /10\.78\./, 'c3 keeps pn2');
  t.false(await pings(dockerd, 'c3', c2), 'c3 no longer reaches pn');
  t.is(links(host).filter((l) => l.startsWith('veth')).length, 3, 'one veth per endpoint left (c1, c2 on pn; c3 on pn2)');

  await dockerd.docker('rm', '-f', 'c1', 'c2', 'c3');
  await dockerd.docker('network', 'rm', 'pn', 'pn2');
  t.deepEqual(links(host), [], 'no bridge, veth or interface left');
  t.notRegex(host.run('ip', '-4', 'addr', 'show'), /10\.7[78]\./);
  t.notRegex(host.run('iptables-save'), /10\.7[78]\.0\.0|NC[0-9a-f]{4}-/);
});

test('with --ipam-driver the plugin hands out pools, gateways and addresses from netctl IPAM', async (t) => {
  const { host, dockerd, plugin } = await setup(t);
  await dockerd.docker('network', 'create', '-d', plugin, '--ipam-driver', plugin, '--subnet', '10.79.0.0/24', '--gateway', '10.79.0.254', 'pi');
  await dockerd.docker('network', 'create', '-d', plugin, '--ipam-driver', plugin, 'pd');
  t.teardown(() => dockerd.docker('rm', '-f', 'i1', 'i2', 'd1').catch(() => undefined));
  await run(dockerd, 'pi', 'i1');
  await run(dockerd, 'pi', 'i2');
  await run(dockerd, 'pd', 'd1');
  // netctl's IPAM skips the gateway and starts at the pool's first free address.
  t.is(await addressOf(dockerd, 'i1', 'pi'), '10.79.0.1');
  t.is(await addressOf(dockerd, 'i2', 'pi'), '10.79.0.2');
  t.regex(host.run('ip', '-4', 'addr', 'show'), /inet 10\.79\.0\.254\/24/, 'the bridge has the gateway Docker asked for');
  const dynamic = (await dockerd.docker('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'pd')).trim();
  t.regex(dynamic, /^\d+\.\d+\.\d+\.0\/\d+$/, 'a pool chosen by netctl');
  t.true(await pings(dockerd, 'i1', 'i2'), 'by name');
  t.true(await pings(dockerd, 'd1', (await addressOf(dockerd, 'd1', 'pd')).replace(/\.\d+$/, '.1')), 'd1 reaches its gateway');
  await dockerd.docker('rm', '-f', 'i1', 'i2', 'd1');
  await dockerd.docker('network', 'rm', 'pi', 'pd');
  t.deepEqual(links(host), []);
  // Released: the same subnet can be had again, with the same first address.
  await dockerd.docker('network', 'create', '-d', plugin, '--ipam-driver', plugin, '--subnet', '10.79.0.0/24', 'pi');
  await run(dockerd, 'pi', 'i1');
  t.is(await addressOf(dockerd, 'i1', 'pi'), '10.79.0.2', 'gateway .1 first, then the first address');
  await dockerd.docker('rm', '-f', 'i1');
  await dockerd.docker('network', 'rm', 'pi');
  // --ip-range: Docker's SubPool, addresses from that part of the subnet only.
  await dockerd.docker('network', 'create', '-d', plugin, '--ipam-driver', plugin, '--subnet', '10.89.0.0/24', '--ip-range', '10.89.0.128/25', 'pr');
  await run(dockerd, 'pr', 'i1');
  const gateway = (await dockerd.docker('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'pr')).trim();
  const inRange = await addressOf(dockerd, 'i1', 'pr');
  t.regex(inRange, /^10\.89\.0\.\d+$/);
  t.true(Number(inRange.split('.')[3]) >= 128 && inRange !== gateway, `${inRange} is in the range and not the gateway ${gateway}`);
  await dockerd.docker('rm', '-f', 'i1');
  await dockerd.docker('network', 'rm', 'pr');
  t.deepEqual(links(host), []);
});

test("a netctl restart while Docker's containers run keeps them connected, and Docker can still remove them", async (t) => {
  const { host, daemon, dockerd, plugin } = await setup(t);
  await dockerd.docker('network', 'create', '-d', plugin, '--subnet', '10.80.0.0/24', 'pr');
  t.teardown(() => dockerd.docker('rm', '-f', 'r1', 'r2').catch(() => undefined));
  await run(dockerd, 'pr', 'r1');
  await run(dockerd, 'pr', 'r2');
  t.true(await pings(dockerd, 'r1', 'r2'));
  const before = links(host).sort();
  t.is(await daemon.stop(), 0);
  t.true(await pings(dockerd, 'r1', 'r2'), 'the data plane works while netctl is down');
  await startDaemon(t, { netns: host.path, root: daemon.root, runDir: daemon.runDir, args: ['--bridge', 'none', '--docker-plugin', plugin] });
  t.deepEqual(links(host).sort(), before, 'the restart kept every bridge and veth');
  t.true(await pings(dockerd, 'r1', 'r2'), 'and the containers still reach each other');
  // Docker's calls after the restart find the network and endpoints where they were.
  await dockerd.docker('network', 'disconnect', 'pr', 'r2');
  await run(dockerd, 'pr', 'r3').finally(() => t.teardown(() => dockerd.docker('rm', '-f', 'r3').catch(() => undefined)));
  t.true(await pings(dockerd, 'r3', 'r1'));
  await dockerd.docker('rm', '-f', 'r1', 'r2', 'r3');
  await dockerd.docker('network', 'rm', 'pr');
  t.deepEqual(links(host), []);
  t.notRegex(host.run('iptables-save'), /10\.80\.0\.0|NC[0-9a-f]{4}-/);
});

test('-o netctl.driver=macvlan backs a Docker network with macvlan children of a parent in the test host', async (t) => {
  const { host, dockerd, plugin } = await setup(t);
  host.run('ip', 'link', 'add', 'mvparent', 'type', 'bridge');
  host.run('ip', 'link', 'set', 'mvparent', 'up');
  await dockerd.docker('network', 'create', '-d', plugin, '-o', 'netctl.driver=macvlan', '-o', 'parent=mvparent', '--subnet', '10.85.0.0/24', 'pm');
  t.teardown(() => dockerd.docker('rm', '-f', 'm1', 'm2').catch(() => undefined));
  await run(dockerd, 'pm', 'm1');
  await run(dockerd, 'pm', 'm2');
  const pid = (await dockerd.docker('inspect', '-f', '{{.State.Pid}}', 'm1')).trim();
  t.regex(host.run('nsenter', `--net=/proc/${pid}/ns/net`, 'ip', '-d', 'link', 'show', 'eth0'), /macvlan mode bridge/);
  t.true(await pings(dockerd, 'm1', 'm2'), 'by name, through the parent');
  await dockerd.docker('rm', '-f', 'm1', 'm2');
  await dockerd.docker('network', 'rm', 'pm');
  t.deepEqual(links(host), ['mvparent'], 'the parent stays; nothing else is left');
});

test('docker run -p publishes the port through the plugin, and docker rm takes it away', async (t) => {
  const { host, dockerd, plugin } = await setup(t);
  await dockerd.docker('network', 'create', '-d', plugin, '--subnet', '10.86.0.0/24', 'pp');
  t.teardown(() => dockerd.docker('rm', '-f', 'web').catch(() => undefined));
  await dockerd.docker('run', '-d', '--name', 'web', '--network', 'pp', '-p', '8086:80', dockerd.image, 'sh', '-c', 'mkdir -p /w && echo hello > /w/index.html && exec httpd -f -p 80 -h /w');
  const fetch = async (): Promise<string> => {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        return host.run('curl', '-s', '--max-time', '2', 'http://127.0.0.1:8086/');
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    return '';
  };
  t.is((await fetch()).trim(), 'hello', 'the host port reaches the container');
  t.regex(host.run('iptables-save', '-t', 'nat'), /--dport 8086/);
  await dockerd.docker('rm', '-f', 'web');
  t.notRegex(host.run('iptables-save', '-t', 'nat'), /--dport 8086/, 'the DNAT rule went with the container');
  await dockerd.docker('network', 'rm', 'pp');
  t.deepEqual(links(host), []);
});

test('--ipv6 and --internal reach the backing bridge: IPv6 between containers, no gateway on an internal network', async (t) => {
  const { dockerd, plugin } = await setup(t);
  await dockerd.docker('network', 'create', '-d', plugin, '--ipv6', '--subnet', '10.87.0.0/24', '--subnet', 'fd00:87::/64', 'p6');
  await dockerd.docker('network', 'create', '-d', plugin, '--internal', '--subnet', '10.88.0.0/24', 'pin');
  t.teardown(() => dockerd.docker('rm', '-f', 's1', 's2', 'n1').catch(() => undefined));
  await run(dockerd, 'p6', 's1');
  await run(dockerd, 'p6', 's2');
  await run(dockerd, 'pin', 'n1');
  const s2v6 = (await dockerd.docker('inspect', '-f', '{{(index .NetworkSettings.Networks "p6").GlobalIPv6Address}}', 's2')).trim();
  t.regex(s2v6, /^fd00:87::/);
  let reached = false;
  for (let attempt = 0; attempt < 5 && !reached; attempt++) reached = await dockerd.docker('exec', 's1', 'ping', '-6', '-c', '1', '-W', '2', s2v6).then(() => true, () => false);
  t.true(reached, 's1 reaches s2 over IPv6');
  const routes = await dockerd.docker('exec', 'n1', 'ip', 'route');
  t.notRegex(routes, /default/, 'an internal network gives no default route');
  await dockerd.docker('rm', '-f', 's1', 's2', 'n1');
  await dockerd.docker('network', 'rm', 'p6', 'pin');
});
