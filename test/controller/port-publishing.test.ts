// Ports a sandbox publishes through one of its endpoints: which endpoint, and the record kept in
// step with what the driver programmed, also when a step fails. Over a scripted driver and an
// in-memory list of saved records, without root.
import test from 'ava';
import type { EndpointRecord } from '../../src/controller/endpoint-record';
import { endpointSpecOf } from '../../src/controller/endpoint-record';
import type { NetworkRecord } from '../../src/controller/network-record';
import { portCarrier, programPorts, type PortPublishingDeps, revokePorts } from '../../src/controller/port-publishing';
import type { PortMapping } from '../../src/drivers/driver';
import { ScriptedDriver, ScriptedFailure } from '../helpers/scripted-driver';

const network: NetworkRecord = { id: 'n'.repeat(64), name: 'n1', driver: 'scripted', scope: 'local', created: '', internal: false, attachable: false, enableIPv6: false, predefined: false, options: {}, labels: {}, ipam: { driver: 'default', options: {}, config: [] }, allocations: [] };
const endpoint = (id: string, fields: Partial<EndpointRecord> = {}): EndpointRecord => ({ id: id.padEnd(64, '0'), name: id, networkId: network.id, sandboxId: 's', ifname: 'eth0', mac: '02:42:0a:00:00:02', ipv4: { poolId: 'p', address: '10.0.0.2/24' }, aliases: [], created: '', ...fields });
const web: PortMapping = { protocol: 'tcp', hostPort: 0, containerPort: 80 };

function deps(driver: ScriptedDriver): PortPublishingDeps & { saved: EndpointRecord[]; failNextSave(): void } {
  const saved: EndpointRecord[] = [];
  let failSave = false;
  return {
    saved,
    failNextSave: () => (failSave = true),
    networkOf: () => network,
    driverOf: () => driver,
    endpointSpec: (e) => endpointSpecOf(e, '/run/netns/s'),
    save: async (e) => {
      if (failSave) {
        failSave = false;
        throw new ScriptedFailure('scripted store failure');
      }
      saved.push(structuredClone(e));
    },
  };
}

test('ports go through the IPv4 default route carrier, else the first connected endpoint', (t) => {
  const internal = endpoint('a');
  const outside = endpoint('b', { gateway4: '10.0.0.1' });
  const declining = endpoint('c', { gateway4: '10.0.0.1', noGatewayService: true });
  t.is(portCarrier([internal, outside]), outside);
  t.is(portCarrier([declining, internal]), declining, 'no carrier: the first connected');
  t.is(portCarrier([]), undefined);
});

test('programmed ports are recorded as the driver resolved them, and revoked', async (t) => {
  const driver = new ScriptedDriver({ script: { programExternalConnectivity: (_n, _e, ports) => ports.map((p) => ({ ...p, hostPort: p.hostPort || 32768 })) } });
  const d = deps(driver);
  const e = endpoint('a');
  t.deepEqual(await programPorts(d, e, [web]), [{ ...web, hostPort: 32768 }]);
  t.deepEqual(e.ports, [{ ...web, hostPort: 32768 }]);
  t.deepEqual(d.saved.at(-1)?.ports, [{ ...web, hostPort: 32768 }]);
  const [, spec, ports] = driver.callsOf('programExternalConnectivity')[0]!.args;
  t.like(spec, { id: e.id, ipv4: '10.0.0.2/24', sandbox: { sandboxKey: '/run/netns/s', ifname: 'eth0' } });
  t.deepEqual(ports, [web]);
  await revokePorts(d, e);
  t.deepEqual(driver.sequence(), ['programExternalConnectivity', 'revokeExternalConnectivity']);
  t.is(e.ports, undefined);
  t.is(d.saved.at(-1)?.ports, undefined);
});

test('an endpoint that published nothing is not revoked', async (t) => {
  const driver = new ScriptedDriver();
  await revokePorts(deps(driver), endpoint('a'));
  t.deepEqual(driver.calls, []);
});

test('what a driver without port details programmed is revoked too', async (t) => {
  // The contract lets such a driver (a plugin) resolve with no ports: it still programmed something.
  const driver = new ScriptedDriver({ script: { programExternalConnectivity: () => [] } });
  const d = deps(driver);
  const e = endpoint('a');
  t.deepEqual(await programPorts(d, e, [web]), []);
  await revokePorts(d, e);
  t.deepEqual(driver.sequence(), ['programExternalConnectivity', 'revokeExternalConnectivity']);
});

test('a refused program leaves no record of ports', async (t) => {
  const driver = new ScriptedDriver();
  driver.failNext('programExternalConnectivity');
  const d = deps(driver);
  const e = endpoint('a');
  await t.throwsAsync(programPorts(d, e, [web]), { instanceOf: ScriptedFailure });
  t.is(e.ports, undefined);
  await revokePorts(d, e);
  t.deepEqual(driver.sequence(), ['programExternalConnectivity'], 'nothing to revoke');
});

test('ports the record could not keep are revoked: nothing stays published that the store does not know', async (t) => {
  const driver = new ScriptedDriver();
  const d = deps(driver);
  const e = endpoint('a');
  d.failNextSave();
  await t.throwsAsync(programPorts(d, e, [web]), { instanceOf: ScriptedFailure });
  t.deepEqual(driver.sequence(), ['programExternalConnectivity', 'revokeExternalConnectivity']);
  t.is(e.ports, undefined);
  t.deepEqual(d.saved, []);
});
