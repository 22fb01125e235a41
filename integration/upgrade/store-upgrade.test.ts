// A store written by the last release (test/fixtures/stores, made by make-fixture.ts with that
// release's daemon and CLI) loads in this daemon after a reboot: copied into a fresh root, in a
// fresh test host (no link, rule, namespace or process of the release left), the daemon brings
// back every network with its bridge, lists every container, starts them again with their
// addresses, MACs, names and aliases, allocates around what the release allocated, and removes it
// all leaving nothing behind. Expectations come from the fixture's sidecar.
import test from 'ava';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ipToBigInt, parsePrefix, prefixContains } from '../../src/ip/address';
import { ensureBusyboxRoot } from '../../src/launcher/rootfs';
import { netctlCli } from '../helpers/cli';
import { cleanupSandboxDir } from '../helpers/controller-host';
import { ok, pings } from '../helpers/containers';
import { request, startDaemon } from '../helpers/daemon';
import { createTestNamespace } from '../helpers/netns';
import { killContainersUnder, shimPids } from '../helpers/shims';
import { type ContainerInspect, fixtureFiles, type NetworkInspect, readSidecar } from './fixture';

const RELEASE = '5cb1193';
const BRIDGE_NAME = 'com.docker.network.bridge.name';
const DRIVER_MTU = 'com.docker.network.driver.mtu';
/** What `network inspect` says of a network, and the release's answer must still hold. */
const NETWORK_FIELDS = ['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Options', 'Labels'] as const;
const CONTAINER_FIELDS = ['Id', 'Name', 'Created', 'Path', 'Args', 'Image', 'HostConfig'] as const;

const pick = (value: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> => Object.fromEntries(fields.map((f) => [f, value[f]]));

const contains = (cidr: string, ip: string): boolean => {
  const { version, value } = ipToBigInt(ip);
  const prefix = parsePrefix(cidr);
  return prefix.version === version && prefixContains(prefix, version, value);
};

/** A bridge network's device: its option, else br- and the first 12 of its ID. */
const bridgeOf = (network: NetworkInspect): string => network.Options[BRIDGE_NAME] ?? `br-${network.Id.slice(0, 12)}`;

test(`a store of release ${RELEASE} loads after a reboot: networks, containers, addresses, names and IPAM work, and all of it is removable`, async (t) => {
  const sidecar = readSidecar(RELEASE);
  const recordedNetwork = (name: string): NetworkInspect => sidecar.networks.find((n) => n.Name === name)!;
  const userNetworks = sidecar.networks.filter((n) => !['bridge', 'host', 'none'].includes(n.Name));
  const bridges = sidecar.networks.filter((n) => n.Driver === 'bridge');
  const recordedAddresses = new Set(sidecar.containers.flatMap((c) => Object.values(c.inspect.NetworkSettings.Networks).flatMap((e) => [e.IPAddress, e.GlobalIPv6Address])).filter(Boolean));

  // The release's state in a fresh root: its store, and the state directory each container has.
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-upgrade-'));
  const root = path.join(base, 'root');
  const runDir = path.join(base, 'run');
  t.teardown(() => {
    killContainersUnder(root);
    cleanupSandboxDir(runDir);
    fs.rmSync(base, { recursive: true, force: true });
  });
  fs.mkdirSync(root, { mode: 0o700 });
  const storePath = path.join(root, 'store.db');
  fs.copyFileSync(fixtureFiles(RELEASE).store, storePath);
  // Containers name the busybox root under the release's --root: here, under this one.
  const busybox = ensureBusyboxRoot(root);
  const store = new Database(storePath);
  for (const { key, value } of store.prepare("SELECT key, value FROM kv WHERE key LIKE 'containers/%'").all() as Array<{ key: string; value: Buffer }>) {
    const record = JSON.parse(value.toString('utf8')) as { config: { rootfs: string } };
    t.is(record.config.rootfs, path.join(sidecar.root, 'images', 'busybox'));
    record.config.rootfs = busybox;
    store.prepare('UPDATE kv SET value = ? WHERE key = ?').run(Buffer.from(JSON.stringify(record)), key);
  }
  store.close();
  for (const { inspect } of sidecar.containers) fs.mkdirSync(path.join(root, 'containers', inspect.Id), { recursive: true, mode: 0o700 });

  const host = createTestNamespace(t, 'nctl-upg');
  host.run('ip', 'link', 'set', 'lo', 'up');
  const daemon = await startDaemon(t, { netns: host.path, root, runDir });
  const netctl = netctlCli(daemon.socketPath);
  const api = async <T>(method: string, urlPath: string, body?: unknown): Promise<T> => {
    const reply = await request(daemon.socketPath, method, urlPath, body);
    if (reply.status >= 300) throw new Error(`${method} ${urlPath}: ${reply.status} ${reply.text}`);
    return (reply.text === '' ? undefined : reply.json()) as T;
  };
  const inspect = (name: string): Promise<ContainerInspect> => api<ContainerInspect>('GET', `/containers/${name}/json`);
  const errors = daemon.logs().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 50);
  t.deepEqual(errors, [], 'the store loads without an error');

  // Networks: as recorded, each bridge made again with its gateways.
  const networks = await api<NetworkInspect[]>('GET', '/networks');
  t.deepEqual(networks.map((n) => n.Name).sort(), sidecar.networks.map((n) => n.Name).sort());
  for (const recorded of sidecar.networks) {
    const network = await api<NetworkInspect>('GET', `/networks/${recorded.Id}`);
    t.deepEqual(pick(network, NETWORK_FIELDS), pick(recorded, NETWORK_FIELDS), `network ${recorded.Name}`);
  }
  const rules = host.run('iptables-save');
  for (const network of bridges) {
    const [link] = host.json<Array<{ mtu: number; addr_info: Array<{ local: string; prefixlen: number }> }>>('ip', 'addr', 'show', 'dev', bridgeOf(network));
    const addresses = link!.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
    for (const config of network.IPAM.Config) t.true(addresses.includes(`${config.Gateway}/${config.Subnet.split('/')[1]}`), `bridge of ${network.Name}: gateway ${config.Gateway} in ${addresses.join(', ')}`);
    t.is(link!.mtu, Number(network.Options[DRIVER_MTU] ?? 1500), `bridge of ${network.Name}: MTU`);
    t.true(rules.includes(`-i ${bridgeOf(network)} `), `bridge of ${network.Name}: its firewall rules`);
  }

  // Containers: listed, those that ran shown exited (the reboot killed them), no sandbox left.
  const listed = await api<Array<{ Id: string; Names: string[] }>>('GET', '/containers/json?all=1');
  t.deepEqual(listed.map((c) => `${c.Names.join()} ${c.Id}`).sort(), sidecar.containers.map((c) => `${c.inspect.Name} ${c.inspect.Id}`).sort());
  // The release showed the image by name; Image is now its ID, as Docker shows it.
  const busyboxId = (await api<{ Id: string }>('GET', '/images/busybox/json')).Id;
  for (const { inspect: recorded } of sidecar.containers) {
    const container = await inspect(recorded.Id);
    // All the release showed, as it showed it; fields added since may come on top.
    t.is(container.Image, recorded.Image === 'busybox' ? busyboxId : recorded.Image, `${recorded.Name}: Image`);
    t.like({ ...pick(container, CONTAINER_FIELDS), Image: recorded.Image }, pick(recorded, CONTAINER_FIELDS), recorded.Name);
    t.like({ ...container.Config, Rootfs: recorded.Config.Rootfs }, recorded.Config, `${recorded.Name}: Config`);
    const { Status, ExitCode } = recorded.State;
    t.like(container.State, Status === 'running' ? { Status: 'exited', ExitCode: 255 } : { Status, ExitCode }, `${recorded.Name}: its state after the reboot`);
    // Its sandbox went with the reboot: configured on its network, holding no endpoint there, as Docker shows a stopped container.
    const mode = recorded.HostConfig.NetworkMode;
    t.deepEqual(Object.keys(container.NetworkSettings.Networks), mode === 'host' || mode === 'none' ? [] : [mode], `${recorded.Name}: its network`);
    for (const endpoint of Object.values(container.NetworkSettings.Networks)) t.like(endpoint, { EndpointID: '', IPAddress: '', GlobalIPv6Address: '', MacAddress: '', Gateway: '' }, `${recorded.Name}: no endpoint`);
  }

  // Started again: each on the network it was created on, with its static addresses, MAC and aliases.
  for (const { inspect: recorded } of sidecar.containers) await api('POST', `/containers/${recorded.Id}/start`);
  for (const { inspect: recorded, static: fixed } of sidecar.containers) {
    const container = await inspect(recorded.Id);
    const mode = recorded.HostConfig.NetworkMode;
    t.is(container.State.Status, 'running', recorded.Name);
    t.deepEqual(Object.keys(container.NetworkSettings.Networks), [mode], `${recorded.Name}: its network`);
    const endpoint = container.NetworkSettings.Networks[mode]!;
    const was = recorded.NetworkSettings.Networks[mode]!;
    const same: string[] = ['NetworkID', 'Gateway', 'IPPrefixLen', 'IPv6Gateway', 'GlobalIPv6PrefixLen'];
    // Joined anew, it answers to its short ID too on a network with names, as Docker.
    t.deepEqual(endpoint.Aliases, mode === 'bridge' ? was.Aliases : [...(was.Aliases ?? []), recorded.Id.slice(0, 12)], `${recorded.Name} on ${mode}: aliases`);
    if (fixed.ipv4 !== undefined) same.push('IPAddress', 'MacAddress');
    if (fixed.ipv6 !== undefined) same.push('GlobalIPv6Address');
    t.deepEqual(pick(endpoint, same), pick(was, same), `${recorded.Name} on ${mode}`);
    const subnets = recordedNetwork(mode).IPAM.Config.map((c) => c.Subnet);
    for (const address of [endpoint.IPAddress, endpoint.GlobalIPv6Address].filter(Boolean)) t.true(subnets.some((s) => contains(s, address)), `${recorded.Name}: ${address} in ${subnets.join(', ')}`);
    t.is(endpoint.GlobalIPv6Address === '', was.GlobalIPv6Address === '', `${recorded.Name}: IPv6 as before`);
  }
  // A network connected after the start is not joined again at the next start: connected anew.
  for (const { inspect: recorded } of sidecar.containers) {
    for (const [network, endpoint] of Object.entries(recorded.NetworkSettings.Networks)) {
      if (network !== recorded.HostConfig.NetworkMode) await ok(netctl, ['network', 'connect', ...(endpoint.Aliases ?? []).flatMap((a) => ['--alias', a]), network, recorded.Name.slice(1)]);
    }
  }

  // New containers: an address of each network no one held, and the old ones reached by name.
  const fresh = 'upgrade-fresh';
  await ok(netctl, ['run', '-d', '--name', fresh, '--network', userNetworks[0]!.Name, '--', 'sleep', '300']);
  for (const network of userNetworks.slice(1)) await ok(netctl, ['network', 'connect', network.Name, fresh]);
  const freshEndpoints = (await inspect(fresh)).NetworkSettings.Networks;
  for (const network of userNetworks) {
    const endpoint = freshEndpoints[network.Name]!;
    for (const address of [endpoint.IPAddress, endpoint.GlobalIPv6Address].filter(Boolean)) {
      const config = network.IPAM.Config.find((c) => contains(c.Subnet, address));
      t.truthy(config, `${fresh}: ${address} in a subnet of ${network.Name}`);
      t.true(contains(config?.IPRange ?? config?.Subnet ?? '', address), `${fresh}: ${address} in the range of ${network.Name}`);
      t.false(recordedAddresses.has(address), `${fresh}: ${address} was no container's`);
      t.false([config?.Gateway, ...Object.values(config?.AuxiliaryAddresses ?? {})].includes(address), `${fresh}: ${address} is no gateway or aux address`);
    }
  }
  for (const network of userNetworks) {
    for (const [holder, address] of Object.entries(network.IPAM.Config[0]!.AuxiliaryAddresses ?? {})) {
      const refused = await netctl(['run', '-d', '--name', 'upgrade-aux', '--network', network.Name, '--ip', address, '--', 'true']);
      t.regex(refused.stderr, /already in use/, `aux address ${holder} (${address}) of ${network.Name} still reserved`);
      // Refused at its start, it stays created, as Docker leaves it.
      await ok(netctl, ['rm', 'upgrade-aux']);
    }
  }
  for (const { inspect: recorded } of sidecar.containers) {
    const name = recorded.Name.slice(1);
    const current = (await inspect(recorded.Id)).NetworkSettings.Networks;
    for (const [network, endpoint] of Object.entries(current)) {
      if (network === 'bridge') continue;
      for (const alias of [name, ...(endpoint.Aliases ?? [])]) {
        const answer = await ok(netctl, ['exec', fresh, 'nslookup', alias]);
        for (const address of [endpoint.IPAddress, endpoint.GlobalIPv6Address].filter(Boolean)) t.true(answer.includes(`Address: ${address}`), `${alias} resolves to ${address}:\n${answer}`);
      }
      t.true(await pings(netctl, fresh, name), `${fresh} pings ${name} on ${network}`);
    }
  }
  // The old containers reach each other, over IPv6 too; the default bridge is isolated from the rest.
  t.true(await pings(netctl, 'web', 'db-front'), 'web pings db by its alias on frontend');
  t.true(await pings(netctl, 'db', 'www'), 'db pings web by its alias');
  t.true(await pings(netctl, 'idle', 'fd00:232::20'), 'idle pings db over IPv6');
  const defaultBridge = recordedNetwork('bridge');
  t.true(await pings(netctl, 'legacy', defaultBridge.IPAM.Config[0]!.Gateway!), 'legacy reaches its gateway on the default bridge');
  const webAddress = (await inspect('web')).NetworkSettings.Networks['frontend']!.IPAddress;
  t.false(await pings(netctl, 'legacy', webAddress, 1), 'legacy does not reach web: networks are isolated from each other');
  let served = '';
  for (let i = 0; i < 50 && served === ''; i++) {
    try {
      served = host.run('busybox', 'wget', '-qO-', 'http://127.0.0.1:8080/hostname');
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  t.is(served, 'web-1\n', 'web serves on its published port');

  // Everything removed: containers, then networks; nothing left but the default bridge.
  await ok(netctl, ['rm', '-f', fresh, ...sidecar.containers.map((c) => c.inspect.Id)]);
  await ok(netctl, ['network', 'rm', ...userNetworks.map((n) => n.Name)]);
  const links = host.json<Array<{ ifname: string }>>('ip', 'link', 'show').map((l) => l.ifname);
  t.deepEqual(links.sort(), ['lo', bridgeOf(defaultBridge)].sort(), 'no link but lo and the default bridge');
  const rulesLeft = host.run('iptables-save') + host.run('ip6tables-save');
  for (const network of userNetworks) t.false(rulesLeft.includes(network.Id.slice(0, 12)) || (network.Driver === 'bridge' && rulesLeft.includes(bridgeOf(network))), `no rule of ${network.Name}`);
  t.deepEqual(fs.readdirSync(path.join(runDir, 'netns')), [], 'no sandbox namespace');
  t.deepEqual(fs.readdirSync(path.join(root, 'containers')), [], 'no container state directory');
  t.deepEqual(shimPids((dir) => dir.startsWith(`${root}/`)), [], 'no shim');
  t.is(await daemon.stop(), 0);
  const db = new Database(storePath, { readonly: true });
  const keys = (db.prepare('SELECT key FROM kv ORDER BY key').all() as Array<{ key: string }>).map((row) => decodeURIComponent(row.key));
  db.close();
  const predefined = sidecar.networks.filter((n) => !userNetworks.includes(n));
  t.deepEqual(keys.filter((key) => /^(containers|endpoints|sandboxes)\//.test(key)), [], 'no container, endpoint or sandbox in the store');
  t.deepEqual(keys.filter((key) => key.startsWith('networks/')).sort(), predefined.map((n) => `networks/${n.Id}`).sort(), 'only the predefined networks in the store');
  const { Subnet, Gateway } = defaultBridge.IPAM.Config[0]!;
  t.deepEqual(keys.filter((key) => /^ipam\/.*\/(pools|addrs)\//.test(key)), [`ipam/LocalDefault/addrs/LocalDefault/${Subnet}/${Gateway}`, `ipam/LocalDefault/pools/LocalDefault/${Subnet}`], 'only the default bridge\'s pool and gateway in the IPAM');
});
