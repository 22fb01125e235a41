// Overlay networks at three hosts (daemons in test hosts on an underlay, etcd in a test host of its
// own): containers on every host reach each other by address and name as VXLAN on UDP 4789 of the
// underlay; a second overlay reaches nothing of the first even with an address and a neighbour
// entry of the first's; a daemon killed with SIGKILL has its forwarding and neighbour entries
// dropped by the others within failure detection's bound while their containers keep talking,
// and once restarted it converges back and its container is reachable again.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { type Runner } from '../helpers/cli';
import { inspect, interfaceWith, ok, pings } from '../helpers/containers';
import { type ClusterHost, startOverlayCluster } from '../helpers/overlay-cluster';
import { type UnderlayHost } from '../helpers/underlay';
import { until } from '../../test/helpers/until';

/** README (Cluster): 2 × (n probe intervals + the 9 s longest suspicion + 1 s) at n = 3. */
const DEAD_BOUND_MS = 23_000;

interface Container {
  name: string;
  ip: string;
  mac: string;
}

async function runOn(cli: Runner, network: string, name: string): Promise<Container> {
  await ok(cli, ['run', '-d', '--name', name, '--network', network, 'sleep', '600']);
  const settings = (await inspect(cli, name)).NetworkSettings.Networks[network]!;
  return { name, ip: settings.IPAddress, mac: settings.MacAddress };
}

const networkId = async (cli: Runner, name: string): Promise<string> => (JSON.parse(await ok(cli, ['network', 'inspect', name])) as Array<{ Id: string }>)[0]!.Id;

/** The remote entries programmed on a host's VXLAN device for the network: FDB (MAC → VTEP) and neighbours (IP → MAC). */
function programmed(host: ClusterHost, id: string): { fdb: Array<{ mac: string; dst?: string }>; neighbours: Array<{ dst: string; lladdr?: string }> } {
  const ns = `--net=${path.join(host.daemon.runDir, 'overlay', `ov-${id}`)}`;
  const json = <T>(...command: string[]): T => JSON.parse(execFileSync('nsenter', [ns, ...command], { encoding: 'utf8' }) || '[]') as T;
  return {
    fdb: json<Array<{ mac: string; dst?: string }>>('bridge', '-j', 'fdb', 'show', 'dev', 'vxlan0').filter((e) => e.dst !== undefined),
    neighbours: json<Array<{ dst: string; lladdr?: string }>>('ip', '-j', 'neigh', 'show', 'dev', 'vxlan0'),
  };
}

/** Whether a host has `vtep`'s container `c` programmed (both entries). */
function holds(host: ClusterHost, id: string, c: Container, vtep: string): boolean {
  const { fdb, neighbours } = programmed(host, id);
  return fdb.some((e) => e.mac === c.mac && e.dst === vtep) && neighbours.some((n) => n.dst === c.ip && n.lladdr === c.mac);
}

/** Whether a host has no entry left that leads to `vtep` or to its container `c`. */
function forgot(host: ClusterHost, id: string, c: Container, vtep: string): boolean {
  const { fdb, neighbours } = programmed(host, id);
  return !fdb.some((e) => e.dst === vtep || e.mac === c.mac) && !neighbours.some((n) => n.dst === c.ip || n.lladdr === c.mac);
}

/** A counting rule (no target) for VXLAN arriving on the test host's underlay; its packet count. */
function countVxlan(host: UnderlayHost): () => number {
  host.ns.run('iptables', '-w', '-I', 'INPUT', '-p', 'udp', '--dport', '4789');
  return () => {
    const line = host.ns.run('iptables', '-w', '-L', 'INPUT', '-v', '-x', '-n').split('\n').find((l) => l.includes('udp dpt:4789'));
    return Number(line?.trim().split(/\s+/)[0] ?? NaN);
  };
}

test('three hosts: every pair of containers talks by IP and name over VXLAN; a second overlay is isolated; a host killed is forgotten within the bound while the others keep talking, and converges back when restarted', async (t) => {
  const hosts = await startOverlayCluster(t, 'ov3', 3);
  const [a, b, c] = hosts as [ClusterHost, ClusterHost, ClusterHost];
  await ok(a.cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.210.0.0/24', 'blue']);
  await ok(b.cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.211.0.0/24', 'green']);
  for (const { cli } of hosts) await until('blue and green listed on every host', async () => /blue[\s\S]*green|green[\s\S]*blue/.test(await ok(cli, ['network', 'ls'])), 15_000, 100);
  const vxlanIn = hosts.map(({ host }) => countVxlan(host));

  const blue = await Promise.all(hosts.map(({ cli }, i) => runOn(cli, 'blue', `blue${i}`)));
  const blueId = await networkId(a.cli, 'blue');
  for (const [i, from] of hosts.entries()) {
    for (const [j, to] of blue.entries()) {
      if (i === j) continue;
      await until(`blue${i} reaches ${to.name} by IP`, () => pings(from.cli, `blue${i}`, to.ip, 1), 15_000, 100);
      t.true(await pings(from.cli, `blue${i}`, to.name), `blue${i} pings ${to.name} by name`);
    }
  }
  for (const [i, count] of vxlanIn.entries()) t.true(count() > 0, `host ${i} received VXLAN on UDP 4789 of its underlay`);
  t.true(holds(a, blueId, blue[2]!, c.host.address) && holds(b, blueId, blue[2]!, c.host.address), 'host C\'s container programmed on A and B');

  // green's container on host A, given an address in blue's subnet and a neighbour entry for blue1:
  // the frames go to green's VXLAN device (another VNI), which has no way to blue1's host.
  const greenA = await runOn(a.cli, 'green', 'greenA');
  const greenB = await runOn(b.cli, 'green', 'greenB');
  await until('greenA reaches greenB', () => pings(a.cli, 'greenA', greenB.ip, 1), 15_000, 100);
  const greenSandbox = (await inspect(a.cli, 'greenA')).NetworkSettings.SandboxKey;
  const greenLink = interfaceWith(greenSandbox, greenA.ip);
  execFileSync('nsenter', [`--net=${greenSandbox}`, 'ip', 'addr', 'add', '10.210.0.250/24', 'dev', greenLink]);
  execFileSync('nsenter', [`--net=${greenSandbox}`, 'ip', 'neigh', 'replace', blue[1]!.ip, 'lladdr', blue[1]!.mac, 'dev', greenLink, 'nud', 'permanent']);
  t.false(await pings(a.cli, 'greenA', blue[1]!.ip, 1), 'green reaches nothing of blue');
  t.true(await pings(a.cli, 'greenA', greenB.ip), 'while green itself works');
  t.false(await pings(b.cli, 'blue1', greenA.ip, 1), 'nor blue anything of green');

  // Host C dies with its container running: A and B drop its entries, and keep talking.
  c.daemon.process.kill('SIGKILL');
  await c.daemon.exited;
  const killedAt = Date.now();
  await until('A and B forget host C', () => forgot(a, blueId, blue[2]!, c.host.address) && forgot(b, blueId, blue[2]!, c.host.address), DEAD_BOUND_MS, 50);
  t.log(`host C's entries gone from A and B ${Date.now() - killedAt} ms after kill -9 (bound ${DEAD_BOUND_MS} ms)`);
  t.true(await pings(a.cli, 'blue0', blue[1]!.ip), 'A reaches B by IP');
  t.true(await pings(b.cli, 'blue1', 'blue0'), 'B reaches A by name');
  t.false(await pings(a.cli, 'blue0', blue[2]!.ip, 1), 'and no longer C');

  // Restarted, host C publishes its container again and takes the others' back.
  await c.restart();
  await until('A and B hold host C\'s container again', () => holds(a, blueId, blue[2]!, c.host.address) && holds(b, blueId, blue[2]!, c.host.address), 30_000, 100);
  for (const [i, from] of [a, b].entries()) await until(`blue${i} reaches blue2 again`, () => pings(from.cli, `blue${i}`, blue[2]!.ip, 1), 15_000, 100);
  await until('blue2 reaches blue0 by name again', () => pings(c.cli, 'blue2', 'blue0', 1), 15_000, 100);
  t.true(await pings(c.cli, 'blue2', blue[1]!.ip), 'and blue1 by IP');
});
