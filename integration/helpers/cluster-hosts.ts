// Test hosts of a cluster: etcd in a test host of its own holding the underlay bridge, and one
// test host per node linked to it by a veth ("uplink", 10.251.0.x), each running a controller
// process on that etcd (controller-process.ts in cluster mode). Everything goes with the test.
import { type ControllerHost, startController } from './controller-host';
import { startEtcd, type TestEtcd } from './etcd';
import { createTestNamespace, type TestNamespace } from './netns';

export interface ClusterNode {
  name: string;
  ns: TestNamespace;
  controller: ControllerHost;
  /** Cuts (false) or restores (true) the node's link to etcd, from etcd's side. */
  link(up: boolean): void;
}

export interface TestCluster {
  etcd: TestEtcd;
  etcdHost: TestNamespace;
  nodes: ClusterNode[];
}

const ETCD_ADDRESS = '10.251.0.1';

export async function startCluster(t: { teardown(fn: () => Promise<void> | void): void }, names: readonly string[]): Promise<TestCluster> {
  const etcdHost = createTestNamespace(t, 'nctl-etcd');
  etcdHost.run('ip', 'link', 'set', 'lo', 'up');
  etcdHost.run('ip', 'link', 'add', 'underlay', 'type', 'bridge');
  etcdHost.run('ip', 'addr', 'add', `${ETCD_ADDRESS}/24`, 'dev', 'underlay');
  etcdHost.run('ip', 'link', 'set', 'underlay', 'up');
  const hosts = names.map((name, i) => {
    const ns = createTestNamespace(t, 'nctl-node');
    ns.run('ip', 'link', 'set', 'lo', 'up');
    const port = `to-${i}`;
    etcdHost.run('ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', ns.name);
    etcdHost.run('ip', 'link', 'set', port, 'master', 'underlay', 'up');
    ns.run('ip', 'addr', 'add', `10.251.0.${10 + i}/24`, 'dev', 'uplink');
    ns.run('ip', 'link', 'set', 'uplink', 'up');
    return { name, ns, link: (up: boolean) => void etcdHost.run('ip', 'link', 'set', port, up ? 'up' : 'down') };
  });
  const etcd = await startEtcd(t, { netns: etcdHost.path, host: ETCD_ADDRESS });
  const nodes = await Promise.all(hosts.map(async (host) => ({ ...host, controller: await startController(t, { netns: host.ns.path, cluster: { etcd: etcd.endpoint, node: host.name } }) })));
  return { etcd, etcdHost, nodes };
}
