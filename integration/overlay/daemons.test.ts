// Overlay networks end to end: daemons in test hosts on an underlay bridge, etcd in a test host of
// its own. A network made on one host is listed on the others; containers on two hosts reach each
// other over VXLAN, each host having learnt the other's endpoint from the cluster's gossip table.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { netctlCli } from '../helpers/cli';
import { inspect, ok, pings } from '../helpers/containers';
import { startDaemon } from '../helpers/daemon';
import { startEtcd } from '../helpers/etcd';
import { createUnderlay, type UnderlayHost } from '../helpers/underlay';
import { until } from '../../test/helpers/until';

test('an overlay network made on one host: listed on the other, its containers on both hosts ping each other over VXLAN', async (t) => {
  const underlay = createUnderlay(t);
  const etcdHost = underlay.addHost();
  await startEtcd(t, { netns: etcdHost.ns.path, host: etcdHost.address });
  const daemon = async (host: UnderlayHost, name: string) =>
    startDaemon(t, { netns: host.ns.path, args: ['--bridge', 'none', '--cluster-store', `etcd://${etcdHost.address}:2379`, '--advertise-addr', host.address, '--node-name', name] });
  const [hostA, hostB] = [underlay.addHost(), underlay.addHost()];
  const [a, b] = [await daemon(hostA, 'ov-a'), await daemon(hostB, 'ov-b')];
  const [cliA, cliB] = [netctlCli(a.socketPath), netctlCli(b.socketPath)];

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
  const networkId = (JSON.parse(await ok(cliB, ['network', 'inspect', 'ov1'])) as Array<{ Id: string }>)[0]!.Id;
  const overlayNamespace = path.join(b.runDir, 'overlay', `ov-${networkId}`);
  const stats = JSON.parse(execFileSync('nsenter', [`--net=${overlayNamespace}`, 'ip', '-j', '-s', 'link', 'show', 'vxlan0'], { encoding: 'utf8' })) as Array<{ stats64: { rx: { packets: number } } }>;
  t.true(stats[0]!.stats64.rx.packets > 0, JSON.stringify(stats));

  await ok(cliA, ['rm', '-f', 'left']);
  await ok(cliB, ['rm', '-f', 'right']);
  await ok(cliB, ['network', 'rm', 'ov1']);
  await until('ov1 gone on the first host too', async () => !(await ok(cliA, ['network', 'ls'])).includes('ov1'), 15_000, 100);
});
