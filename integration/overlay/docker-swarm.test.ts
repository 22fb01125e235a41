// netctl's overlay networks against Docker's own in swarm mode: a dockerd in one test host
// (`docker swarm init` there), a netctl daemon in a cluster on another, the same requests to both.
// Scope, Peers and the refusal of a non-attachable network must read the same.
import test from 'ava';
import { netctlCli, type Runner } from '../helpers/cli';
import { ok } from '../helpers/containers';
import { startDaemon } from '../helpers/daemon';
import { startTestDockerd } from '../helpers/dockerd';
import { startEtcd } from '../helpers/etcd';
import { createUnderlay } from '../helpers/underlay';
import { until } from '../../test/helpers/until';

interface Inspect {
  Scope: string;
  Attachable: boolean;
  Peers?: Array<Record<string, string>>;
}

const inspectOf = async (cli: Runner, name: string): Promise<Inspect> => (JSON.parse(await ok(cli, ['network', 'inspect', name])) as Inspect[])[0]!;

test('Scope "swarm", Peers and the non-attachable refusal read as dockerd\'s in swarm mode', async (t) => {
  const underlay = createUnderlay(t);
  const [etcdHost, netctlHost, dockerHost] = [underlay.addHost(), underlay.addHost(), underlay.addHost()];
  await startEtcd(t, { netns: etcdHost.ns.path, host: etcdHost.address });
  const daemon = await startDaemon(t, { netns: netctlHost.ns.path, args: ['--bridge', 'none', '--cluster-store', `etcd://${etcdHost.address}:2379`, '--advertise-addr', netctlHost.address, '--node-name', 'ovd-netctl'] });
  const netctl = netctlCli(daemon.socketPath);
  t.teardown(async () => {
    const ids = (await netctl(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await netctl(['rm', '-f', ...ids]);
  });
  const dockerd = await startTestDockerd(t, dockerHost.ns.name);
  const docker = dockerd.cli;
  await ok(docker, ['swarm', 'init', '--advertise-addr', dockerHost.address]);
  t.teardown(async () => void (await docker(['rm', '-f', 'c1', 'c2'])));

  // netctl runs its busybox root when no image is named.
  const image = { docker: [dockerd.image], netctl: [] };
  const both = [{ cli: docker, kind: 'docker' as const, address: dockerHost.address }, { cli: netctl, kind: 'netctl' as const, address: netctlHost.address }];
  for (const { cli, kind } of both) {
    await ok(cli, ['network', 'create', '-d', 'overlay', '--subnet', '10.204.0.0/24', 'sealed']);
    await ok(cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.205.0.0/24', 'open']);
    t.regex(await ok(cli, ['network', 'ls', '--filter', 'name=sealed']), /sealed\s+overlay\s+swarm/, `${kind}: SCOPE in ls`);
    t.is((await inspectOf(cli, 'sealed')).Scope, 'swarm', `${kind}: Scope in inspect`);
    t.is((await inspectOf(cli, 'open')).Peers, undefined, `${kind}: no Peers while no container is on the network`);
  }

  const refusals: Record<string, { run: string; connect: string }> = {};
  for (const { cli, kind } of both) {
    const run = await cli(['run', '-d', '--name', 'c1', '--network', 'sealed', ...image[kind], 'sleep', '300']);
    t.is(run.code, 125, `${kind}: run exits 125`);
    await ok(cli, ['run', '-d', '--name', 'c2', '--network', 'open', ...image[kind], 'sleep', '300']);
    const connect = await cli(['network', 'connect', 'sealed', 'c2']);
    t.is(connect.code, 1, `${kind}: network connect exits 1`);
    refusals[kind] = { run: run.stderr, connect: connect.stderr };
  }
  // Docker's message, word for word, then netctl's hint on what to do.
  const dockerWords = /Error response from daemon: (Could not attach to network sealed: rpc error: code = PermissionDenied desc = network sealed not manually attachable)/;
  const words = dockerWords.exec(refusals['docker']!.connect)?.[1];
  t.truthy(words, refusals['docker']!.connect);
  t.regex(refusals['docker']!.run, dockerWords);
  for (const text of [refusals['netctl']!.run, refusals['netctl']!.connect]) t.true(text.includes(words!), text);

  for (const { cli, kind, address } of both) {
    await until(`${kind}: Peers of open`, async () => (await inspectOf(cli, 'open')).Peers !== undefined, 15_000, 100);
    const peers = (await inspectOf(cli, 'open')).Peers!;
    t.deepEqual(peers.map((p) => Object.keys(p)), [['Name', 'IP']], `${kind}: one peer, Name and IP`);
    t.is(peers[0]!['IP'], address, `${kind}: the host's advertise address`);
  }
  t.is((await inspectOf(netctl, 'open')).Peers![0]!['Name'], 'ovd-netctl', 'netctl names the host by its node name');
});
