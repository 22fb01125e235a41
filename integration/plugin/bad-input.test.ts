// The plugin socket against what Docker (or anyone) may send: malformed JSON, missing fields,
// wrong types, unknown IDs and repeated calls get the right status and {"Err"}, retries are
// answered as the first call was, and no failed call leaves a link behind. The daemon serves the
// plugin on a socket path of the test's own (no /run/docker/plugins needed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { type HttpReply, request, startDaemon } from '../helpers/daemon';
import { createTestNamespace } from '../helpers/netns';

const NET = 'a'.repeat(64);
const EP = 'b'.repeat(64);
const OTHER = 'c'.repeat(64);

test('every bad request gets a clear {"Err"} and leaves nothing; retries are answered as the first call', async (t) => {
  const host = createTestNamespace(t, 'nctl-plugbad');
  host.run('ip', 'link', 'set', 'lo', 'up');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-plugsock-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const socket = path.join(dir, 'p.sock');
  const daemon = await startDaemon(t, { netns: host.path, args: ['--bridge', 'none', '--docker-plugin', socket] });
  t.is(fs.statSync(socket).mode & 0o777, 0o660);
  const call = (method: string, body?: unknown): Promise<HttpReply> => request(socket, 'POST', `/${method}`, body);
  const links = (): string[] => host.json<Array<{ ifname: string }>>('ip', 'link', 'show').map((l) => l.ifname).filter((n) => n !== 'lo');
  const fails = async (method: string, body: unknown, status: number, message: RegExp): Promise<void> => {
    const reply = await call(method, body);
    t.is(reply.status, status, `${method} ${JSON.stringify(body)}: ${reply.text}`);
    t.regex(reply.json<{ Err: string }>().Err, message, method);
  };
  const ok = async (method: string, body?: unknown): Promise<Record<string, unknown>> => {
    const reply = await call(method, body);
    t.is(reply.status, 200, `${method}: ${reply.text}`);
    return reply.json();
  };

  const activate = await call('Plugin.Activate');
  t.is(activate.headers['content-type'], 'application/vnd.docker.plugins.v1.2+json');
  t.deepEqual(activate.json(), { Implements: ['NetworkDriver', 'IpamDriver'] });
  t.deepEqual(await ok('NetworkDriver.GetCapabilities'), { Scope: 'local', ConnectivityScope: 'local' });
  await fails('NetworkDriver.GwAllocCheck', {}, 404, /not implemented/);
  await fails('VolumeDriver.Create', {}, 404, /not implemented/);
  t.is((await request(socket, 'GET', '/NetworkDriver.GetCapabilities')).status, 405);

  // Malformed bodies and fields
  await fails('NetworkDriver.CreateNetwork', '{"NetworkID": ', 400, /invalid JSON/);
  await fails('NetworkDriver.CreateNetwork', undefined, 400, /body is empty/);
  await fails('NetworkDriver.CreateNetwork', `{"NetworkID": "${'x'.repeat(2 * 1024 * 1024)}"}`, 400, /larger than 1048576 bytes/);
  await fails('NetworkDriver.CreateNetwork', [1], 400, /must be a JSON object, got a list/);
  await fails('NetworkDriver.CreateNetwork', {}, 400, /field "NetworkID" is missing/);
  await fails('NetworkDriver.CreateNetwork', { NetworkID: 7 }, 400, /"NetworkID" must be a string, got 7/);
  await fails('NetworkDriver.CreateNetwork', { NetworkID: '../etc' }, 400, /64 lowercase hex/);
  await fails('NetworkDriver.CreateNetwork', { NetworkID: NET, Options: [] }, 400, /"Options" must be an object/);
  await fails('NetworkDriver.CreateNetwork', { NetworkID: NET, Options: { 'com.docker.network.generic': { mtu: 1400 } } }, 400, /"com.docker.network.generic.mtu" must be a string/);
  await fails('NetworkDriver.CreateNetwork', { NetworkID: NET, Options: { 'com.docker.network.generic': { 'netctl.driver': 'overlay' } } }, 400, /unknown netctl.driver "overlay": use one of bridge, macvlan/);
  await fails('NetworkDriver.CreateNetwork', { NetworkID: NET, Options: { 'com.docker.network.enable_ipv6': 'yes' } }, 400, /must be true or false/);
  await fails('NetworkDriver.CreateNetwork', { NetworkID: NET, IPv4Data: [{ Pool: '10.81.0.0' }] }, 400, /IPv4Data\[0\].*"Pool" must be an IPv4 address with its prefix length/);
  await fails('NetworkDriver.CreateNetwork', { NetworkID: NET, IPv4Data: [{}] }, 400, /IPv4Data\[0\]\.Pool is missing/);
  await fails('NetworkDriver.CreateNetwork', { NetworkID: NET, IPv4Data: 'x' }, 400, /"IPv4Data" must be a list/);
  // The driver's own checks: a bridge needs IPv4, and takes only options it knows.
  await fails('NetworkDriver.CreateNetwork', { NetworkID: NET }, 400, /ipv4 pool is empty/);
  const v4 = [{ AddressSpace: 'LocalDefault', Pool: '10.81.0.0/24', Gateway: '10.81.0.1/24' }];
  await fails('NetworkDriver.CreateNetwork', { NetworkID: NET, IPv4Data: v4, Options: { 'com.docker.network.generic': { 'com.docker.network.bridge.enable_icc': 'maybe' } } }, 400, /enable_icc/);
  t.deepEqual(links(), [], 'no failed create left a link');

  // A network, created twice (Docker's retry), and not again with other settings
  const create = { NetworkID: NET, IPv4Data: v4, IPv6Data: [], Options: { 'com.docker.network.generic': {}, 'com.docker.network.enable_ipv6': false } };
  t.deepEqual(await ok('NetworkDriver.CreateNetwork', create), {});
  t.deepEqual(await ok('NetworkDriver.CreateNetwork', create), {});
  await fails('NetworkDriver.CreateNetwork', { ...create, IPv4Data: [{ Pool: '10.82.0.0/24', Gateway: '10.82.0.1/24' }] }, 500, /already exists with other settings/);
  t.deepEqual(links(), [`br-${NET.slice(0, 12)}`]);

  // Endpoints
  await fails('NetworkDriver.CreateEndpoint', { NetworkID: OTHER, EndpointID: EP, Interface: { Address: '10.81.0.2/24' } }, 500, /network cccccccccccc not found/);
  await fails('NetworkDriver.CreateEndpoint', { NetworkID: NET, EndpointID: EP, Interface: {} }, 400, /no IPv4 address/);
  await fails('NetworkDriver.CreateEndpoint', { NetworkID: NET, EndpointID: EP, Interface: { Address: '10.81.0.2/24', MacAddress: 'zz' } }, 400, /not a MAC address/);
  await fails('NetworkDriver.CreateEndpoint', { NetworkID: NET, EndpointID: EP, Interface: { Address: '10.81.0.2/24', AddressIPv6: 'fd00::2/64' } }, 400, /without IPv6/);
  await fails('NetworkDriver.CreateEndpoint', { NetworkID: NET, EndpointID: EP, Interface: { Address: '10.81.0.2' } }, 400, /with its prefix length/);
  const endpoint = { NetworkID: NET, EndpointID: EP, Interface: { Address: '10.81.0.2/24', AddressIPv6: '', MacAddress: '' }, Options: {} };
  const created = await ok('NetworkDriver.CreateEndpoint', endpoint);
  t.deepEqual(created, { Interface: { MacAddress: '02:42:0a:51:00:02' } });
  t.deepEqual(await ok('NetworkDriver.CreateEndpoint', endpoint), created, 'a retry gets the same answer');
  await fails('NetworkDriver.CreateEndpoint', { ...endpoint, Interface: { Address: '10.81.0.3/24' } }, 500, /already exists with other settings/);
  t.like(await ok('NetworkDriver.EndpointOperInfo', { NetworkID: NET, EndpointID: EP }), { Value: { 'com.docker.network.endpoint.macaddress': '02:42:0a:51:00:02' } });
  await fails('NetworkDriver.EndpointOperInfo', { NetworkID: NET, EndpointID: OTHER }, 500, /endpoint cccccccccccc not found/);

  // Join, twice, then Leave, twice
  await fails('NetworkDriver.Join', { NetworkID: NET, EndpointID: OTHER, SandboxKey: '/var/run/docker/netns/x' }, 500, /not found/);
  await fails('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP }, 400, /"SandboxKey" is missing/);
  const join = { NetworkID: NET, EndpointID: EP, SandboxKey: '/var/run/docker/netns/x', Options: {} };
  const joined = await ok('NetworkDriver.Join', join);
  t.deepEqual(joined, { InterfaceName: { SrcName: `nctl${EP.slice(0, 11)}`, DstPrefix: 'eth' }, Gateway: '10.81.0.1', StaticRoutes: [], DisableGatewayService: false });
  t.deepEqual(await ok('NetworkDriver.Join', join), joined);
  const handed = host.json<Array<{ ifname: string; address: string; operstate: string }>>('ip', 'link', 'show', `nctl${EP.slice(0, 11)}`)[0]!;
  t.is(handed.address, '02:42:0a:51:00:02', 'the interface Docker moves has the endpoint MAC');
  const portmap = (binding: Record<string, unknown>): unknown => ({ NetworkID: NET, EndpointID: EP, Options: { 'com.docker.network.portmap': [{ Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8081, HostPortEnd: 8081, ...binding }] } });
  await fails('NetworkDriver.ProgramExternalConnectivity', portmap({ Proto: 99 }), 400, /Proto must be 6 \(tcp\), 17 \(udp\) or 132 \(sctp\), got 99/);
  await fails('NetworkDriver.ProgramExternalConnectivity', portmap({ HostPort: 70000 }), 400, /HostPort must be a port number, got 70000/);
  await fails('NetworkDriver.ProgramExternalConnectivity', portmap({ HostPortEnd: 8090 }), 400, /host port ranges \(8081-8090\) are not supported/);
  await fails('NetworkDriver.ProgramExternalConnectivity', portmap({ HostIP: 'here' }), 400, /HostIP "here" is not an IP address/);
  await fails('NetworkDriver.ProgramExternalConnectivity', { NetworkID: NET, EndpointID: OTHER, Options: {} }, 500, /not found/);
  t.deepEqual(await ok('NetworkDriver.ProgramExternalConnectivity', portmap({})), {});
  t.deepEqual(await ok('NetworkDriver.ProgramExternalConnectivity', portmap({})), {}, 'a retry publishes the same port again');
  t.regex(host.run('iptables-save', '-t', 'nat'), /--dport 8081/);
  t.deepEqual(await ok('NetworkDriver.RevokeExternalConnectivity', { NetworkID: NET, EndpointID: EP }), {});
  t.deepEqual(await ok('NetworkDriver.RevokeExternalConnectivity', { NetworkID: NET, EndpointID: EP }), {});
  t.notRegex(host.run('iptables-save', '-t', 'nat'), /--dport 8081/);
  t.deepEqual(await ok('NetworkDriver.ProgramExternalConnectivity', portmap({})), {}, 'published again, for DeleteEndpoint to take away');
  await fails('NetworkDriver.DeleteNetwork', { NetworkID: NET }, 500, /still has 1 endpoint/);
  t.deepEqual(await ok('NetworkDriver.Leave', { NetworkID: NET, EndpointID: EP }), {});
  t.deepEqual(await ok('NetworkDriver.Leave', { NetworkID: NET, EndpointID: EP }), {});
  t.deepEqual(links(), [`br-${NET.slice(0, 12)}`], 'the veth went at Leave');
  t.deepEqual(await ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP }), {});
  t.deepEqual(await ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP }), {});
  t.deepEqual(await ok('NetworkDriver.DeleteNetwork', { NetworkID: NET }), {});
  t.deepEqual(await ok('NetworkDriver.DeleteNetwork', { NetworkID: NET }), {});
  t.deepEqual(links(), []);
  t.notRegex(host.run('iptables-save'), /10\.81\.0\.0|NC[0-9a-f]{4}-|--dport 8081/);

  // Discovery and swarm's calls, checked and accepted
  await fails('NetworkDriver.DiscoverNew', { DiscoveryData: {} }, 400, /"DiscoveryType" must be an integer/);
  t.deepEqual(await ok('NetworkDriver.DiscoverNew', { DiscoveryType: 1, DiscoveryData: { Address: '192.0.2.1', self: true } }), {});
  t.deepEqual(await ok('NetworkDriver.DiscoverDelete', { DiscoveryType: 1, DiscoveryData: {} }), {});
  t.deepEqual(await ok('NetworkDriver.AllocateNetwork', { NetworkID: NET, Options: {} }), { Options: {} });
  t.deepEqual(await ok('NetworkDriver.FreeNetwork', { NetworkID: NET }), {});

  // IPAM
  t.deepEqual(await ok('IpamDriver.GetCapabilities'), { RequiresMACAddress: false, RequiresRequestReplay: false });
  t.deepEqual(await ok('IpamDriver.GetDefaultAddressSpaces'), { LocalDefaultAddressSpace: 'LocalDefault', GlobalDefaultAddressSpace: 'GlobalDefault' });
  await fails('IpamDriver.RequestPool', {}, 400, /"AddressSpace" is missing/);
  await fails('IpamDriver.RequestPool', { AddressSpace: 'LocalDefault', SubPool: '10.83.0.0/25' }, 400, /needs the Pool/);
  await fails('IpamDriver.RequestPool', { AddressSpace: 'LocalDefault', V6: 'no' }, 400, /"V6" must be true or false/);
  await fails('IpamDriver.RequestPool', { AddressSpace: 'LocalDefault', Pool: 'nonsense' }, 400, /nonsense/);
  const pool = await ok('IpamDriver.RequestPool', { AddressSpace: 'LocalDefault', Pool: '10.83.0.0/24', Options: {}, V6: false });
  t.like(pool, { Pool: '10.83.0.0/24' });
  const poolId = pool.PoolID as string;
  await fails('IpamDriver.RequestAddress', { PoolID: 'LocalDefault/10.99.0.0/24' }, 500, /10\.99\.0\.0/);
  await fails('IpamDriver.RequestAddress', { PoolID: poolId, Address: '10.84.0.1' }, 400, /10\.84\.0\.1/);
  t.deepEqual(await ok('IpamDriver.RequestAddress', { PoolID: poolId, Address: '', Options: { RequestAddressType: 'com.docker.network.gateway' } }), { Address: '10.83.0.1/24', Data: {} });
  t.deepEqual(await ok('IpamDriver.RequestAddress', { PoolID: poolId }), { Address: '10.83.0.2/24', Data: {} });
  t.deepEqual(await ok('IpamDriver.ReleaseAddress', { PoolID: poolId, Address: '10.83.0.2' }), {});
  await fails('IpamDriver.ReleaseAddress', { PoolID: poolId }, 400, /"Address" is missing/);
  t.deepEqual(await ok('IpamDriver.ReleasePool', { PoolID: poolId }), {});

  t.is((await request(daemon.socketPath, 'GET', '/_ping')).status, 200, 'the daemon is still up');
  t.is(await daemon.stop(), 0);
  t.false(fs.existsSync(socket), 'the socket is removed at stop');
});
