// GET /cluster and `netctl cluster info` carry the count of gossip entries the drivers ignored
// (the overlay's naming a VTEP outside the cluster), which was only logged before.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { addClusterRoutes } from '../../src/api/cluster';
import { Router } from '../../src/api/router';
import type { ClusterAgent, ClusterInfo } from '../../src/cluster/agent';
import { infoText, type InfoJson } from '../../src/cli/cluster-command';

const agentInfo: ClusterInfo = {
  nodeName: 'node-a',
  address: '10.0.0.1:7946',
  encrypted: false,
  keyCount: 0,
  primaryKey: undefined,
  members: 2,
  aliveMembers: 2,
  drops: { auth: 0, malformed: 0, oversized: 0, table: 0 },
  suspicions: 0,
  traffic: { packetsSent: 1, packetsReceived: 1, streams: 1, bytesSent: 10, bytesReceived: 10 },
  store: { endpoints: ['http://10.0.0.9:2379'], connected: false },
};

test('GET /cluster reports the entries the drivers ignored; cluster info prints them', async (t) => {
  let ignored = 0;
  const router = new Router();
  addClusterRoutes(router, { info: () => agentInfo } as unknown as ClusterAgent, { ignoredTableEntries: () => ignored });
  const server = http.createServer(router.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void server.close());
  const { port } = server.address() as AddressInfo;
  const get = async (): Promise<InfoJson> => (await fetch(`http://127.0.0.1:${port}/cluster`)).json() as Promise<InfoJson>;

  t.is((await get()).IgnoredEntries, 0);
  ignored = 3;
  const info = await get();
  t.is(info.IgnoredEntries, 3);
  t.regex(infoText(info), /^Ignored entries:\s+3 \(gossip entries naming a VTEP outside the cluster\)$/m);
});
