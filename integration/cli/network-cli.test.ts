// `netctl network ...` and Docker's own `docker network ...` against a real daemon in a test
// host: output, exit codes, and what the kernel shows afterwards.
import test from 'ava';
import fs from 'node:fs';
import { NETCTL_CLI, netctlCli, type Runner, runner } from '../helpers/cli';
import { startDaemon } from '../helpers/daemon';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => fs.existsSync(p));

async function setup(t: Parameters<typeof startDaemon>[0] & Parameters<typeof createTestNamespace>[0]): Promise<{ ns: TestNamespace; netctl: Runner; socket: string }> {
  const ns = createTestNamespace(t, 'nctl-cli');
  const daemon = await startDaemon(t, { netns: ns.path, args: ['--bridge', 'none'] });
  return { ns, socket: daemon.socketPath, netctl: netctlCli(daemon.socketPath) };
}

const bridges = (ns: TestNamespace): string[] =>
  ns.json<Array<{ ifname: string; linkinfo?: { info_kind: string } }>>('ip', '-d', 'link', 'show').filter((l) => l.linkinfo?.info_kind === 'bridge').map((l) => l.ifname).sort();

test('netctl network create, ls, inspect and rm: Docker-shaped output and the bridge in the kernel', async (t) => {
  const { ns, netctl } = await setup(t);
  const created = await netctl(['network', 'create', '--subnet', '10.51.0.0/24', '--gateway', '10.51.0.254', '--ip-range', '10.51.0.128/25', '--aux-address', 'r=10.51.0.2', '--label', 'tier=web', '-o', 'com.docker.network.bridge.name=br-cli', '-o', 'com.docker.network.driver.mtu=1400', 'web']);
  t.is(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  t.regex(id, /^[0-9a-f]{64}$/);
  t.deepEqual(bridges(ns), ['br-cli']);
  t.true(ns.run('ip', 'addr', 'show', 'br-cli').includes('inet 10.51.0.254/24'));

  const ls = await netctl(['network', 'ls']);
  t.is(ls.code, 0);
  const lines = ls.stdout.trimEnd().split('\n');
  t.regex(lines[0]!, /^NETWORK ID {5}NAME {6}DRIVER {4}SCOPE$/, 'the same header docker prints');
  t.deepEqual(lines.slice(1).map((l) => l.split(/\s+/).slice(1)), [['host', 'host', 'local'], ['none', 'null', 'local'], ['web', 'bridge', 'local']]);
  t.true(lines.some((l) => l.startsWith(id.slice(0, 12))));
  t.is((await netctl(['network', 'ls', '-q', '--no-trunc', '-f', 'label=tier=web'])).stdout, `${id}\n`);
  t.is((await netctl(['network', 'ls', '--format', '{{.Name}} {{.Driver}}', '--filter', 'driver=bridge'])).stdout, 'web bridge\n');
  t.like(JSON.parse((await netctl(['network', 'ls', '--format', 'json', '-f', 'name=web'])).stdout), { Name: 'web', Driver: 'bridge', Scope: 'local', Labels: 'tier=web' });

  const inspected = await netctl(['network', 'inspect', 'web']);
  t.is(inspected.code, 0);
  t.true(inspected.stdout.startsWith('[\n    {\n        "Name": "web",'));
  const [network] = JSON.parse(inspected.stdout) as Array<Record<string, unknown>>;
  t.like(network, { Name: 'web', Id: id, Driver: 'bridge', Labels: { tier: 'web' }, IPAM: { Driver: 'default', Config: [{ Subnet: '10.51.0.0/24', Gateway: '10.51.0.254', IPRange: '10.51.0.128/25', AuxiliaryAddresses: { r: '10.51.0.2' } }] } });
  t.is((await netctl(['network', 'inspect', '-f', '{{.Name}} {{.IPAM.Driver}} {{json .Labels}}', id.slice(0, 6)])).stdout, 'web default {"tier":"web"}\n');

  const partly = await netctl(['network', 'inspect', 'web', 'ghost']);
  t.is(partly.code, 1);
  t.is(partly.stderr, 'Error: No such network: ghost\n');
  t.is((JSON.parse(partly.stdout) as unknown[]).length, 1);

  const removed = await netctl(['network', 'rm', 'web', 'ghost']);
  t.is(removed.code, 1);
  t.is(removed.stdout, 'web\n');
  t.is(removed.stderr, 'Error response from daemon: network ghost not found\n');
  t.deepEqual(bridges(ns), []);
});

test('errors: usage 125, daemon refusals 1 with the daemon message, and nothing created', async (t) => {
  const { ns, netctl, socket } = await setup(t);
  t.is((await netctl(['network', 'create', '--subnet', '10.52.0.0/24', 'a'])).code, 0);
  const cases: Array<[string[], number, RegExp]> = [
    [['network', 'create', '--subnet', '10.52.0.0/16', 'b'], 1, /^Error response from daemon: Pool overlaps with other one on this address space: subnet 10\.52\.0\.0\/16 overlaps 10\.52\.0\.0\/24 of network a;/],
    [['network', 'create', 'a'], 1, /^Error response from daemon: network with name a already exists\n$/],
    [['network', 'create', '-d', 'warp', 'c'], 1, /^Error response from daemon: plugin "warp" not found\n$/],
    [['network', 'create', '--gateway', '10.1.1.1', 'd'], 125, /every ip-range or gateway must have a corresponding subnet/],
    [['network', 'create', '--frobnicate', 'e'], 125, /unknown flag: --frobnicate/],
    [['network', 'create'], 125, /requires exactly 1 argument/],
    [['network', 'fly'], 125, /unknown command "network fly"/],
    [['network', 'rm', 'none'], 1, /none is a pre-defined network and cannot be removed/],
    [['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=perhaps', 'f'], 1, /enable_icc: use true or false/],
  ];
  for (const [args, code, message] of cases) {
    const result = await netctl(args);
    t.is(result.code, code, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, message, args.join(' '));
  }
  t.deepEqual(bridges(ns).length, 1, 'only network a has a bridge');

  const noDaemon = await runner([process.execPath, NETCTL_CLI], { NETCTL_HOST: `unix://${socket}.missing` })(['network', 'ls']);
  t.is(noDaemon.code, 1);
  t.regex(noDaemon.stderr, /cannot connect to the netctl daemon at unix:\/\/.*\.missing \(ENOENT\): is `netctl daemon` running\?/);
  t.is((await runner([process.execPath, NETCTL_CLI], { NETCTL_HOST: `unix://${socket}` })(['network', 'ls', '-q'])).stdout.split('\n').filter(Boolean).length, 3, 'NETCTL_HOST is honoured');
});

test('netctl network prune asks first, honours filters, and keeps predefined networks', async (t) => {
  const { ns, netctl } = await setup(t);
  await netctl(['network', 'create', '--label', 'keep', 'kept']);
  await netctl(['network', 'create', 'gone1']);
  await netctl(['network', 'create', 'gone2']);
  const declined = await netctl(['network', 'prune'], 'n\n');
  t.regex(declined.stdout, /Are you sure you want to continue\? \[y\/N\] $/);
  t.is(bridges(ns).length, 3);
  const pruned = await netctl(['network', 'prune', '-f', '--filter', 'label!=keep']);
  t.is(pruned.code, 0);
  t.deepEqual(pruned.stdout.split('\n').slice(0, 1), ['Deleted Networks:']);
  t.deepEqual(pruned.stdout.trim().split('\n').slice(1).sort(), ['gone1', 'gone2']);
  t.is(bridges(ns).length, 1);
  t.deepEqual((await netctl(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean), ['host', 'kept', 'none']);
});

test("Docker's own CLI manages netctl's networks: create, ls, inspect, rm, prune", async (t) => {
  if (!DOCKER) return t.fail('the docker client is missing; scripts/setup.sh installs docker.io');
  const { ns, socket } = await setup(t);
  // A private config dir: the test must not read or write the user's ~/.docker.
  const config = fs.mkdtempSync('/tmp/nctl-dockercfg-');
  t.teardown(() => fs.rmSync(config, { recursive: true, force: true }));
  const docker = runner([DOCKER, '--config', config, '-H', `unix://${socket}`]);
  const created = await docker(['network', 'create', '--subnet', '10.53.0.0/24', '--gateway', '10.53.0.1', '--label', 'from=docker', 'dnet']);
  t.is(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  t.regex(id, /^[0-9a-f]{64}$/);
  t.deepEqual(bridges(ns), [`br-${id.slice(0, 12)}`]);
  const ls = await docker(['network', 'ls', '--format', '{{.ID}} {{.Name}} {{.Driver}} {{.Scope}}']);
  t.is(ls.code, 0, ls.stderr);
  t.true(ls.stdout.split('\n').includes(`${id.slice(0, 12)} dnet bridge local`), ls.stdout);
  const inspect = await docker(['network', 'inspect', '--format', '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Labels.from}}', 'dnet']);
  t.is(inspect.code, 0, inspect.stderr);
  t.is(inspect.stdout.trim(), 'dnet 10.53.0.0/24 10.53.0.1 docker');
  const duplicate = await docker(['network', 'create', 'dnet']);
  t.is(duplicate.code, 1);
  t.regex(duplicate.stderr, /network with name dnet already exists/);
  t.is((await docker(['network', 'rm', 'dnet'])).code, 0);
  t.deepEqual(bridges(ns), []);
  await docker(['network', 'create', 'p1']);
  const pruned = await docker(['network', 'prune', '-f']);
  t.is(pruned.code, 0, pruned.stderr);
  t.regex(pruned.stdout, /Deleted Networks:\np1\n/);
  t.deepEqual(bridges(ns), []);
});
