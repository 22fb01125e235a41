// The cluster agent's wiring over the real transport in a test host: what the controller hears
// (node joins and departures, other hosts' table entries, never its own), the networks members
// show, a departed node's entries deleted, a restarted node's entries published again, and a node
// name already registered refused at start.
import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { createTestNamespace } from '../helpers/netns';

const HELPER = path.resolve(__dirname, '..', 'helpers', 'agent-process.js');

test('agents found through the store hear each other\'s entries and nodes, and a taken name is refused', async (t) => {
  const host = createTestNamespace(t, 'nctl-agt');
  host.run('ip', 'link', 'set', 'lo', 'up');
  const output = await new Promise<string>((resolve, reject) =>
    execFile('nsenter', [`--net=${host.path}`, process.execPath, HELPER], { timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))),
  );
  const { heardA, heardB, membersSeenByA, taken } = JSON.parse(output) as {
    heardA: { kind: string; event: Record<string, unknown> }[];
    heardB: { kind: string; event: Record<string, unknown> }[];
    membersSeenByA: { name: string; address: string; state: string; networks: string[] }[];
    taken: string | undefined;
  };
  const tableEvents = (heard: typeof heardA) => heard.filter((h) => h.kind === 'table').map((h) => h.event);
  // b's entries go with b when it leaves; restarted, b publishes what its endpoints published.
  t.deepEqual(tableEvents(heardA).slice(0, 3), [
    { type: 'create', networkId: 'net-1', table: 'endpoints', key: 'ep-b', value: 'from-b' },
    { type: 'delete', networkId: 'net-1', table: 'endpoints', key: 'ep-b', value: 'from-b' },
    { type: 'create', networkId: 'net-1', table: 'endpoints', key: 'ep-b', value: 'from-b-restarted' },
  ]);
  t.deepEqual(tableEvents(heardB), [
    { type: 'create', networkId: 'net-1', table: 'endpoints', key: 'ep-a', value: 'from-a' },
    { type: 'update', networkId: 'net-1', table: 'endpoints', key: 'ep-a', value: 'from-a-v2' },
    { type: 'delete', networkId: 'net-1', table: 'endpoints', key: 'ep-a', value: 'from-a-v2' },
  ]);
  // Node events carry the host's IP (what a driver programs), itself first.
  const nodeEvents = (heard: typeof heardA) => heard.filter((h) => h.kind !== 'table').map((h) => [h.kind, h.event['address'], h.event['self']]);
  t.deepEqual(nodeEvents(heardA).slice(0, 4), [
    ['discoverNew', '127.0.0.1', true],
    ['discoverNew', '127.0.0.1', false],
    ['discoverDelete', '127.0.0.1', false],
    ['discoverNew', '127.0.0.1', false],
  ]);
  t.deepEqual(nodeEvents(heardB).slice(0, 2), [
    ['discoverNew', '127.0.0.1', true],
    ['discoverNew', '127.0.0.1', false],
  ]);
  t.deepEqual(
    membersSeenByA.map((m) => [m.name, m.address, m.state, m.networks]),
    [
      ['node-a', '127.0.0.1:17946', 'alive', ['net-1']],
      ['node-b', '127.0.0.1:17947', 'alive', ['net-1']],
    ],
  );
  t.regex(taken ?? '', /^NodeNameTakenError: node name "node-a" is registered by 127\.0\.0\.1:17946 in the cluster store; give this daemon another --node-name/);
});
