// The daemon and an embedding engine on one host (here one test host): each marks what it makes
// with its own identity, so the repair at start removes only its own leftovers, never the other's
// live bridges, veths and gateway addresses.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EndpointRecord, NetworkRecord, SandboxRecord } from '../../src/controller';
import { type ControllerHost, cleanupSandboxDir, startController } from '../helpers/controller-host';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

type Teardown = Parameters<typeof createTestNamespace>[0];

interface IpLink {
  ifname: string;
  group: string | number;
  addr_info?: Array<{ local: string }>;
}

const links = (host: TestNamespace): IpLink[] => host.json<IpLink[]>('ip', '-d', 'address', 'show');
const link = (host: TestNamespace, name: string): IpLink | undefined => links(host).find((l) => l.ifname === name);
const bridgeOf = (network: NetworkRecord): string => `br-${network.id.slice(0, 12)}`;
const hostVethOf = (endpoint: EndpointRecord): string => `veth${endpoint.id.slice(0, 11)}`;

interface Owner {
  start(): Promise<ControllerHost>;
  network: NetworkRecord;
  endpoint: EndpointRecord;
}

/** A controller with a network and one attached sandbox, restartable on the same root. */
async function owner(t: Teardown, host: TestNamespace, embedder: boolean, subnet: string): Promise<Owner & { controller: ControllerHost }> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-own-'));
  const dirs = { root: path.join(base, 'root'), runDir: path.join(base, 'run') };
  t.teardown(() => {
    cleanupSandboxDir(dirs.runDir);
    fs.rmSync(base, { recursive: true, force: true });
  });
  const start = (): Promise<ControllerHost> => startController(t, { netns: host.path, ...dirs, embedder });
  const controller = await start();
  const network = await controller.call<NetworkRecord>('create', { name: embedder ? 'engine' : 'daemon', driver: 'bridge', ipam: { config: [{ subnet }] } });
  const sandbox = await controller.call<SandboxRecord>('createSandbox', {});
  const endpoint = await controller.call<EndpointRecord>('connect', network.id, sandbox.id, {});
  return { start, network, endpoint, controller };
}

/** A bridge no network records, marked with `group`: what a crash between steps leaves. */
function leftover(host: TestNamespace, name: string, group: string | number): void {
  host.run('ip', 'link', 'add', name, 'type', 'bridge');
  host.run('ip', 'link', 'set', name, 'group', String(group));
}

test('a daemon and an embedder in one host: each restart removes its own leftovers and keeps the other\'s bridges, veths and gateways', async (t) => {
  const host = createTestNamespace(t, 'nctl-own');
  const daemon = await owner(t, host, false, '10.83.1.0/24');
  const engine = await owner(t, host, true, '10.83.2.0/24');
  const daemonGroup = link(host, bridgeOf(daemon.network))!.group;
  const engineGroup = link(host, bridgeOf(engine.network))!.group;
  t.not(daemonGroup, engineGroup, 'the two controllers mark their links differently');
  t.not(engineGroup, 'default');

  const live = (o: Owner): void => {
    const bridge = link(host, bridgeOf(o.network));
    t.truthy(bridge, `${bridgeOf(o.network)} is there`);
    t.true(bridge!.addr_info!.some((a) => a.local === o.network.ipam.config[0]!.gateway), `${bridgeOf(o.network)} keeps its gateway`);
    t.truthy(link(host, hostVethOf(o.endpoint)), `${hostVethOf(o.endpoint)} is there`);
  };

  leftover(host, 'lo-daemon', daemonGroup);
  leftover(host, 'lo-engine', engineGroup);
  await daemon.controller.stop();
  await daemon.start();
  t.falsy(link(host, 'lo-daemon'), "the daemon removed its own leftover");
  t.truthy(link(host, 'lo-engine'), "the daemon left the engine's leftover alone");
  live(engine);
  live(daemon);

  await engine.controller.stop();
  await engine.start();
  t.falsy(link(host, 'lo-engine'), 'the engine removed its own leftover');
  live(daemon);
  live(engine);
});
