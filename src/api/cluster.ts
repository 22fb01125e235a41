// netctl's own cluster routes (not Docker's /swarm): this daemon's view of the cluster, its
// members, and its gossip key ring. Keys never leave the daemon; they are named by id.
import { ClusterKeyError, type ClusterAgent } from '../cluster/agent';
import { strictBase64 } from '../cluster/config';
import { KEY_BYTES } from '../cluster/keyring';
import { ApiError, badRequest, describeValue } from './errors';
import type { Controller } from '../controller';
import type { Router } from './router';

export const NOT_IN_CLUSTER = 'this daemon is not part of a cluster; start it with --cluster-store and --advertise-addr';

const KEY_STATUS = { 'not-encrypted': 409, 'not-found': 404, primary: 409 } as const;

function keyCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof ClusterKeyError) throw new ApiError(KEY_STATUS[error.code], error.message);
    throw error;
  }
}

async function stringField(request: { json(): Promise<unknown> }, field: string, what: string): Promise<string> {
  const body = await request.json();
  const value = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string' || value === '') throw badRequest(`give ${field} in the JSON body: ${what}${value === undefined ? '' : `, got ${describeValue(value)}`}`);
  return value;
}

function decodeKey(text: string): Buffer {
  const key = strictBase64(text);
  if (key?.length !== KEY_BYTES) throw badRequest(`Key must be the base64 of ${KEY_BYTES} bytes (an AES-256 key), got ${key ? `${key.length} bytes` : 'text that is not base64'}`);
  return key;
}

export function addClusterRoutes(router: Router, cluster: ClusterAgent | undefined, controller: Pick<Controller, 'ignoredTableEntries'>): void {
  const agent = (): ClusterAgent => {
    if (!cluster) throw new ApiError(503, NOT_IN_CLUSTER);
    return cluster;
  };
  router.add('GET', '/cluster', () => {
    const info = agent().info();
    return {
      status: 200,
      body: {
        NodeName: info.nodeName,
        Address: info.address,
        Encryption: info.encrypted,
        Keys: { Count: info.keyCount, Primary: info.primaryKey ?? null },
        Members: { Total: info.members, Alive: info.aliveMembers },
        DroppedPackets: { Auth: info.drops.auth, Malformed: info.drops.malformed, Oversized: info.drops.oversized, Table: info.drops.table },
        Suspicions: info.suspicions,
        Traffic: { PacketsSent: info.traffic.packetsSent, PacketsReceived: info.traffic.packetsReceived, Streams: info.traffic.streams, BytesSent: info.traffic.bytesSent, BytesReceived: info.traffic.bytesReceived },
        Store: { Endpoints: info.store.endpoints, Connected: info.store.connected },
        IgnoredEntries: controller.ignoredTableEntries(),
      },
    };
  });
  router.add('GET', '/cluster/members', () => ({
    status: 200,
    body: agent()
      .members()
      .map((m) => ({ Name: m.name, Address: m.address, State: m.state, Incarnation: m.incarnation, Networks: m.networks })),
  }));
  router.add('GET', '/cluster/keys', () => ({ status: 200, body: keyCall(() => agent().keys()).map((k) => ({ ID: k.id, Primary: k.primary })) }));
  router.add('POST', '/cluster/keys', async (request) => {
    const key = decodeKey(await stringField(request, 'Key', `the base64 of a ${KEY_BYTES}-byte key`));
    return { status: 201, body: { ID: keyCall(() => agent().addKey(key)) } };
  });
  router.add('POST', '/cluster/keys/use', async (request) => {
    const id = await stringField(request, 'ID', 'the id of a key in the ring (netctl cluster key ls)');
    keyCall(() => agent().useKey(id));
    return { status: 200, body: { ID: id } };
  });
  router.add('DELETE', '/cluster/keys/{id}', (request) => {
    keyCall(() => agent().removeKey(request.params['id']!));
    return { status: 204 };
  });
}
