// NetworkSettings.Networks as dockerd 20.10 shows them: a running container's endpoints; a created
// or stopped one's configuration with the run's values empty (NetworkID kept once it has joined).
import test from 'ava';
import { type Attachment, containerInspectJson } from '../../src/api/container-json';
import type { EndpointRecord, NetworkRecord } from '../../src/controller';
import type { ContainerRecord, NetworkJoin } from '../../src/launcher';

const NETWORK_ID = 'a'.repeat(64);
const network = { id: NETWORK_ID, name: 'front' } as NetworkRecord;
const join: NetworkJoin = { network: 'front', networkId: NETWORK_ID, ipv4: '10.1.0.50', aliases: ['web', 'cccccccccccc'] };

function container(networks: NetworkJoin[], status: 'created' | 'running' | 'exited'): ContainerRecord {
  return {
    id: 'c'.repeat(64),
    created: new Date(0).toISOString(),
    config: { name: 'web', hostname: 'web', cmd: ['sleep', '1'], env: [], workdir: '/', rootfs: '/rootfs', network: 'front', ipv4: '10.1.0.50', aliases: ['web'], ports: [], dns: {}, security: { capAdd: [], capDrop: [], privileged: false, securityOpt: [] }, networks },
    state: { status },
  };
}
const networksOf = (record: ContainerRecord, attachments: Attachment[]): Record<string, unknown> => (containerInspectJson(record, undefined, attachments, '/state').NetworkSettings as { Networks: Record<string, unknown> }).Networks;

const EMPTY_RUN = { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null };

test('a stopped container: its configuration, NetworkID kept, the run\'s values empty', (t) => {
  t.deepEqual(networksOf(container([join], 'exited'), [{ join, network }]), {
    front: { IPAMConfig: { IPv4Address: '10.1.0.50' }, Links: null, Aliases: ['web', 'cccccccccccc'], NetworkID: NETWORK_ID, ...EMPTY_RUN },
  });
});

test('a created container: NetworkID empty, its aliases as given, null when none; a network that is gone keeps its name', (t) => {
  const created: NetworkJoin = { network: 'front', aliases: [] };
  const gone: NetworkJoin = { network: 'back', networkId: 'b'.repeat(64), aliases: [] };
  t.deepEqual(networksOf(container([created, gone], 'created'), [{ join: created, network }, { join: gone }]), {
    front: { IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', ...EMPTY_RUN },
    back: { IPAMConfig: null, Links: null, Aliases: null, NetworkID: 'b'.repeat(64), ...EMPTY_RUN },
  });
});

test('a running container: its endpoint\'s values', (t) => {
  const endpoint = { id: 'e'.repeat(64), networkId: NETWORK_ID, mac: '02:42:0a:01:00:32', ipv4: { poolId: 'p', address: '10.1.0.50/24' }, gateway4: '10.1.0.1', aliases: join.aliases } as EndpointRecord;
  t.like(networksOf(container([join], 'running'), [{ join, network, endpoint }])['front'], { NetworkID: NETWORK_ID, EndpointID: 'e'.repeat(64), Gateway: '10.1.0.1', IPAddress: '10.1.0.50', IPPrefixLen: 24, MacAddress: '02:42:0a:01:00:32' });
});

test("NetworkSettings' top-level fields: the default bridge's endpoint, as dockerd fills them; empty for other networks", (t) => {
  const bridge = { id: 'b'.repeat(64), name: 'bridge', predefined: true } as NetworkRecord;
  const onBridge: NetworkJoin = { network: 'bridge', networkId: bridge.id, aliases: [] };
  const endpoint = { id: 'e'.repeat(64), networkId: bridge.id, mac: '02:42:ac:11:00:02', ipv4: { poolId: 'p', address: '172.17.0.2/16' }, gateway4: '172.17.0.1', aliases: [] } as unknown as EndpointRecord;
  const settingsOf = (attachments: Attachment[]): Record<string, unknown> => containerInspectJson(container([onBridge], 'running'), undefined, attachments, '/state').NetworkSettings as Record<string, unknown>;
  t.like(settingsOf([{ join: onBridge, network: bridge, endpoint }]), { EndpointID: 'e'.repeat(64), Gateway: '172.17.0.1', IPAddress: '172.17.0.2', IPPrefixLen: 16, MacAddress: '02:42:ac:11:00:02', SecondaryIPAddresses: null });
  t.like(settingsOf([{ join, network, endpoint: { ...endpoint, networkId: NETWORK_ID } }]), { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' });
  t.like(settingsOf([{ join: onBridge, network: bridge }]), { EndpointID: '', IPAddress: '' });
});
