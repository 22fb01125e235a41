// The JSON of Docker's NetworkDriver and IpamDriver calls: requests as libnetwork's remote/api
// types spell them, answers checked field by field.
import test from 'ava';
import { AnswerError, decodeAddress, decodeAddressSpaces, decodeCapabilities, decodeCreateEndpoint, decodeIpamCapabilities, decodeJoin, decodePool, encodeCreateEndpoint, encodeCreateNetwork, encodeJoin, encodeProgramExternalConnectivity } from '../../../src/drivers/remote/codec';
import type { EndpointSpec } from '../../../src/drivers/driver';

const endpoint: EndpointSpec = { id: 'e1', networkId: 'n1', mac: '02:42:0a:00:00:02', ipv4: '10.0.0.2/24' };

test('CreateNetwork: IPAMData with CIDR gateways, aux addresses only when there are some, -o options under the generic label (as dockerd sends them)', (t) => {
  const body = encodeCreateNetwork({
    id: 'n1',
    name: 'net',
    options: { mtu: '1400' },
    internal: false,
    enableIPv6: true,
    ipv4: [{ addressSpace: 'LocalDefault', pool: '10.0.0.0/24', gateway: '10.0.0.1/24', auxAddresses: { router: '10.0.0.5/24' } }],
    ipv6: [{ addressSpace: 'LocalDefault', pool: 'fd00::/64', auxAddresses: {} }],
  });
  t.deepEqual(body, {
    NetworkID: 'n1',
    Options: { 'com.docker.network.generic': { mtu: '1400' }, 'com.docker.network.enable_ipv4': true, 'com.docker.network.enable_ipv6': true },
    IPv4Data: [{ AddressSpace: 'LocalDefault', Pool: '10.0.0.0/24', Gateway: '10.0.0.1/24', AuxAddresses: { router: '10.0.0.5/24' } }],
    IPv6Data: [{ AddressSpace: 'LocalDefault', Pool: 'fd00::/64' }],
  });
});

test('capabilities: local or global scope, connectivity defaulting to it; anything else is refused', (t) => {
  t.deepEqual(decodeCapabilities({ Scope: 'local' }), { dataScope: 'local', connectivityScope: 'local', createsInSandbox: false });
  t.deepEqual(decodeCapabilities({ Scope: 'local', ConnectivityScope: 'global' }), { dataScope: 'local', connectivityScope: 'global', createsInSandbox: false });
  t.throws(() => decodeCapabilities({ Scope: 'swarm' }), { instanceOf: AnswerError, message: `invalid capability: expecting 'local' or 'global', got "swarm"` });
  t.throws(() => decodeCapabilities({}), { message: /got undefined/ });
  t.throws(() => decodeCapabilities([]), { message: 'the answer is not a JSON object' });
});

test('CreateEndpoint: the core\'s addresses and MAC go out; the plugin may fill what was empty, not change what was given', (t) => {
  t.deepEqual(encodeCreateEndpoint(endpoint), { NetworkID: 'n1', EndpointID: 'e1', Options: {}, Interface: { Address: '10.0.0.2/24', AddressIPv6: '', MacAddress: '02:42:0a:00:00:02' } });
  t.deepEqual(decodeCreateEndpoint({}, endpoint), {});
  t.deepEqual(decodeCreateEndpoint({ Interface: null }, endpoint), {});
  t.deepEqual(decodeCreateEndpoint({ Interface: { Address: '', AddressIPv6: '', MacAddress: '' } }, endpoint), {});
  t.deepEqual(decodeCreateEndpoint({ Interface: { Address: '10.0.0.2/24', AddressIPv6: 'fd00::2/64', MacAddress: '02:42:0A:00:00:02' } }, endpoint), { ipv6: 'fd00::2/64' });
  t.throws(() => decodeCreateEndpoint({ Interface: { Address: '10.0.0.9/24' } }, endpoint), { message: 'driver modified interface address: 10.0.0.9/24, not 10.0.0.2/24' });
  t.throws(() => decodeCreateEndpoint({ Interface: { MacAddress: '02:00:00:00:00:01' } }, endpoint), { message: /driver modified interface MAC address/ });
  t.throws(() => decodeCreateEndpoint({ Interface: { AddressIPv6: 'fd00::2' } }, endpoint), { message: /"AddressIPv6" is not an address with a prefix length/ });
  t.throws(() => decodeCreateEndpoint({ Interface: { MacAddress: 7 } }, endpoint), { message: '"MacAddress" is not a string' });
});

test('Join: the interface to move in, gateways, next-hop and connected routes, the gateway service switch', (t) => {
  t.deepEqual(
    decodeJoin({
      InterfaceName: { SrcName: 'tp123', DstPrefix: 'eth' },
      Gateway: '10.0.0.1',
      GatewayIPv6: 'fd00::1',
      StaticRoutes: [
        { Destination: '192.168.50.0/24', RouteType: 0, NextHop: '10.0.0.254' },
        { Destination: '10.99.0.0/16', RouteType: 1 },
      ],
      DisableGatewayService: true,
    }),
    {
      interface: { srcName: 'tp123', dstPrefix: 'eth' },
      gateway4: '10.0.0.1',
      gateway6: 'fd00::1',
      staticRoutes: [{ destination: '192.168.50.0/24', nextHop: '10.0.0.254' }, { destination: '10.99.0.0/16' }],
      disableGatewayService: true,
    },
  );
  t.deepEqual(decodeJoin({}), {});
  t.deepEqual(decodeJoin({ InterfaceName: null, Gateway: '', StaticRoutes: null }), {});
});

test('Join answers of the wrong shape say which field is wrong', (t) => {
  t.throws(() => decodeJoin({ InterfaceName: { SrcName: 'tp1' } }), { message: /"InterfaceName\.DstPrefix" is missing/ });
  t.throws(() => decodeJoin({ InterfaceName: { SrcName: 'a/b', DstPrefix: 'eth' } }), { message: /"InterfaceName\.SrcName" is not an interface name/ });
  t.throws(() => decodeJoin({ InterfaceName: { SrcName: 'x'.repeat(16), DstPrefix: 'eth' } }), { message: /"InterfaceName\.SrcName" is not an interface name/ });
  t.throws(() => decodeJoin({ Gateway: '10.0.0' }), { message: '"Gateway" is not an IP address: "10.0.0"' });
  t.throws(() => decodeJoin({ Gateway: 'fd00::1' }), { message: '"Gateway" is not an IPv4 address: fd00::1' });
  t.throws(() => decodeJoin({ StaticRoutes: {} }), { message: '"StaticRoutes" is not a list' });
  t.throws(() => decodeJoin({ StaticRoutes: [{ Destination: '10.1.0.0/16', RouteType: 0 }] }), { message: '"StaticRoutes[0]" of RouteType 0 has no NextHop' });
  t.throws(() => decodeJoin({ StaticRoutes: [{ Destination: '10.1.0.0/16', RouteType: 2 }] }), { message: /RouteType" is 2: 0 \(next hop\) or 1 \(connected\)/ });
  t.throws(() => decodeJoin({ StaticRoutes: [{ RouteType: 1 }] }), { message: '"StaticRoutes[0].Destination" is missing' });
  t.throws(() => decodeJoin({ DisableGatewayService: 'yes' }), { message: '"DisableGatewayService" is not a boolean' });
});

test('published ports go to CreateEndpoint, Join and ProgramExternalConnectivity as Docker\'s exposed ports and port map (dockerd 20.10\'s bodies)', (t) => {
  const ports = [{ protocol: 'tcp' as const, hostPort: 8080, containerPort: 80 }, { protocol: 'udp' as const, hostPort: 5353, containerPort: 53, hostIp: '127.0.0.1' }];
  const options = {
    'com.docker.network.endpoint.exposedports': [{ Proto: 6, Port: 80 }, { Proto: 17, Port: 53 }],
    'com.docker.network.portmap': [
      { Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8080, HostPortEnd: 8080 },
      { Proto: 17, IP: '', Port: 53, HostIP: '127.0.0.1', HostPort: 5353, HostPortEnd: 5353 },
    ],
  };
  t.deepEqual(encodeProgramExternalConnectivity(endpoint, ports), { NetworkID: 'n1', EndpointID: 'e1', Options: options });
  t.deepEqual(encodeCreateEndpoint({ ...endpoint, ports }).Options, options);
  t.deepEqual(encodeJoin({ ...endpoint, ports }, '/run/netctl/netns/abc'), { NetworkID: 'n1', EndpointID: 'e1', SandboxKey: '/run/netctl/netns/abc', Options: options });
  t.deepEqual(encodeJoin(endpoint, '/k').Options, {});
});

test('IPAM answers: capabilities default to none, pools and addresses must be CIDR', (t) => {
  t.deepEqual(decodeIpamCapabilities({}), { requiresMacAddress: false, requiresRequestReplay: false });
  t.deepEqual(decodeIpamCapabilities({ RequiresMACAddress: true }), { requiresMacAddress: true, requiresRequestReplay: false });
  t.deepEqual(decodeAddressSpaces({ LocalDefaultAddressSpace: 'l', GlobalDefaultAddressSpace: 'g' }), { localDefaultAddressSpace: 'l', globalDefaultAddressSpace: 'g' });
  t.throws(() => decodeAddressSpaces({}), { message: '"LocalDefaultAddressSpace" is missing' });
  t.deepEqual(decodePool({ PoolID: 'p1', Pool: '10.5.0.0/16', Data: { 'com.docker.network.gateway': '10.5.0.1/16' } }), { poolId: 'p1', pool: '10.5.0.0/16', meta: { 'com.docker.network.gateway': '10.5.0.1/16' } });
  t.throws(() => decodePool({ PoolID: 'p1', Pool: '10.5.0.0' }), { message: /"Pool" is not an address with a prefix length/ });
  t.throws(() => decodePool({ PoolID: 'p1', Pool: '10.5.0.0/16', Data: { x: 1 } }), { message: '"Data.x" is not a string' });
  t.is(decodeAddress({ Address: '10.5.0.7/16' }), '10.5.0.7/16');
  t.throws(() => decodeAddress({ Address: '' }), { message: 'no address returned' });
  t.throws(() => decodeAddress({ Address: '10.5.0.7' }), { message: /"Address" is not an address with a prefix length/ });
});
