// An overlay cluster of test hosts: etcd in a test host of its own and daemons in others, all on
// one underlay bridge, each daemon with the cluster store and its advertise address. Containers
// outlive their daemon by design, so each host's are removed with the test.
import { netctlCli, type Runner } from './cli';
import { startDaemon, type TestDaemon } from './daemon';
import { startEtcd } from './etcd';
import { createUnderlay, type Underlay, type UnderlayHost } from './underlay';

export interface ClusterHost {
  host: UnderlayHost;
  daemon: TestDaemon;
  cli: Runner;
  /** Stops the daemon and starts it again on the same state (its containers keep running); `cli` still reaches it. */
  restart(): Promise<void>;
}

type Teardown = { teardown(fn: () => Promise<void> | void): void };

/** etcd and `count` daemons (node names `prefix-0`, …), each in its own test host on one underlay (a new one unless given). */
export async function startOverlayCluster(t: Teardown, prefix: string, count: number, extraArgs: string[] = [], underlay: Underlay = createUnderlay(t)): Promise<ClusterHost[]> {
  const etcdHost = underlay.addHost();
  await startEtcd(t, { netns: etcdHost.ns.path, host: etcdHost.address });
  const start = async (host: UnderlayHost, i: number): Promise<ClusterHost> => {
    const args = ['--bridge', 'none', '--cluster-store', `etcd://${etcdHost.address}:2379`, '--advertise-addr', host.address, '--node-name', `${prefix}-${i}`, ...extraArgs];
    const daemon = await startDaemon(t, { netns: host.ns.path, args });
    const cli = netctlCli(daemon.socketPath);
    t.teardown(async () => {
      const ids = (await cli(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await cli(['rm', '-f', ...ids]);
    });
    const restart = async (): Promise<void> => {
      await daemon.stop();
      await startDaemon(t, { netns: host.ns.path, args, root: daemon.root, runDir: daemon.runDir });
    };
    return { host, daemon, cli, restart };
  };
  const underlayHosts = Array.from({ length: count }, () => underlay.addHost());
  const hosts: ClusterHost[] = [];
  // A few at a time: many daemons loading at once on two cores only slow each other.
  for (let i = 0; i < count; i += 5) hosts.push(...(await Promise.all(underlayHosts.slice(i, i + 5).map((host, j) => start(host, i + j)))));
  return hosts;
}
