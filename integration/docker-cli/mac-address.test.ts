// Config.MacAddress at create (docker-compose's mac_address; Docker's CLI sends it only from API
// 1.44): the container's interface on the network it is created on has that MAC.
import test from 'ava';
import { request } from '../helpers/daemon';
import { dockerAgainst } from '../helpers/docker-cli';

const MAC = '02:42:0a:5e:00:99';

test('MacAddress at create is the MAC of the container\'s interface on its network; a connect later gets its own', async (t) => {
  const { daemon, docker, ok } = await dockerAgainst(t, 'nctl-mac');
  await ok(['network', 'create', '--subnet', '10.94.0.0/24', 'mac-net']);
  await ok(['network', 'create', '--subnet', '10.95.0.0/24', 'mac-other']);
  const created = await request(daemon.socketPath, 'POST', '/v1.41/containers/create?name=mac-c', { Image: 'busybox', Cmd: ['sleep', '300'], MacAddress: MAC, HostConfig: { NetworkMode: 'mac-net' } });
  t.is(created.status, 201, created.text);
  t.teardown(() => docker(['rm', '-f', 'mac-c']).then(() => undefined));
  await ok(['start', 'mac-c']);
  await ok(['network', 'connect', 'mac-other', 'mac-c']);
  t.is(await ok(['exec', 'mac-c', 'cat', '/sys/class/net/eth0/address']), MAC);
  t.not(await ok(['exec', 'mac-c', 'cat', '/sys/class/net/eth1/address']), MAC);
  t.is(await ok(['inspect', '--format', '{{.Config.MacAddress}} {{(index .NetworkSettings.Networks "mac-net").MacAddress}}', 'mac-c']), `${MAC} ${MAC}`);

  // Malformed, or with no network to apply it to: a 400, and no container is left.
  for (const [body, status, message] of [
    [{ Cmd: ['true'], MacAddress: '02:42:zz:00:00:01', HostConfig: { NetworkMode: 'mac-net' } }, 400, /invalid MAC address "02:42:zz:00:00:01"/],
    [{ Cmd: ['true'], MacAddress: MAC, HostConfig: { NetworkMode: 'host' } }, 400, /--mac-address .* need a network the container joins; "host" has none/],
    [{ Cmd: ['true'], MacAddress: MAC, HostConfig: { NetworkMode: 'none' } }, 400, /"none" has none/],
  ] as const) {
    const refused = await request(daemon.socketPath, 'POST', '/v1.41/containers/create?name=mac-bad', body);
    t.is(refused.status, status, refused.text);
    t.regex((JSON.parse(refused.text) as { message: string }).message, message);
  }
  t.is(await ok(['ps', '-a', '--format', '{{.Names}}']), 'mac-c');
});
