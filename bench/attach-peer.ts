// Runs inside a test host (`nsenter --net=HOST node attach-peer.js KIND COUNT WORKDIR`): attaches
// COUNT fresh namespaces to one bridge network with the CNI bridge plugin (host-local IPAM) or
// netavark, one at a time, then detaches them, timing each call as its users make it (a process
// per call). Prints {"attach": [ms...], "detach": [ms...]} on stdout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createNamespace, deleteNamespace } from '../src/native/netns';

const CNI_BRIDGE = '/usr/lib/cni/bridge';
const NETAVARK = '/usr/lib/podman/netavark';

interface Peer {
  attach(index: number, netns: string): void;
  detach(index: number, netns: string): void;
}

function check(what: string, result: ReturnType<typeof spawnSync>): void {
  if (result.status !== 0) throw new Error(`${what} failed (${result.status}): ${String(result.stderr)}${String(result.stdout)}`);
}

function cni(workdir: string): Peer {
  const config = JSON.stringify({ cniVersion: '1.0.0', name: 'bench', type: 'bridge', bridge: 'cni-bench', isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.91.0.0/16', dataDir: path.join(workdir, 'ipam') } });
  const call = (command: string, index: number, netns: string): void => {
    const env = { CNI_COMMAND: command, CNI_CONTAINERID: `bench${index}`, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: path.dirname(CNI_BRIDGE), PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
    check(`CNI ${command}`, spawnSync(CNI_BRIDGE, [], { input: config, env }));
  };
  return { attach: (i, ns) => call('ADD', i, ns), detach: (i, ns) => call('DEL', i, ns) };
}

function netavark(workdir: string): Peer {
  // netavark leaves address management to its caller (podman): the addresses are given.
  const options = (index: number): string =>
    JSON.stringify({
      container_id: index.toString(16).padStart(64, '0'),
      container_name: `bench${index}`,
      networks: { bench: { interface_name: 'eth0', static_ips: [`10.92.${(index + 2) >> 8}.${(index + 2) & 255}`] } },
      network_info: {
        bench: { dns_enabled: false, driver: 'bridge', id: 'b'.repeat(64), internal: false, ipv6_enabled: false, name: 'bench', network_interface: 'nv-bench', ipam_options: { driver: 'host-local' }, subnets: [{ subnet: '10.92.0.0/16', gateway: '10.92.0.1' }] },
      },
    });
  const call = (command: string, index: number, netns: string): void => check(`netavark ${command}`, spawnSync(NETAVARK, ['--config', path.join(workdir, 'netavark'), command, netns], { input: options(index) }));
  return { attach: (i, ns) => call('setup', i, ns), detach: (i, ns) => call('teardown', i, ns) };
}

function main(): void {
  const [kind, countText, workdir] = process.argv.slice(2);
  const count = Number(countText);
  const peer = kind === 'cni' ? cni(workdir!) : kind === 'netavark' ? netavark(workdir!) : undefined;
  if (!peer || !Number.isInteger(count) || !workdir) throw new Error('usage: attach-peer.js cni|netavark COUNT WORKDIR');
  fs.mkdirSync(workdir, { recursive: true });
  const namespaces: string[] = [];
  const timed = (work: () => void): number => {
    const start = process.hrtime.bigint();
    work();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const attach: number[] = [];
  const detach: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const netns = createNamespace(path.join(workdir, 'netns'), `c${i}`);
      namespaces.push(netns);
      attach.push(timed(() => peer.attach(i, netns)));
    }
    namespaces.forEach((netns, i) => detach.push(timed(() => peer.detach(i, netns))));
  } finally {
    for (const netns of namespaces) deleteNamespace(netns);
    spawnSync('umount', [path.join(workdir, 'netns')]);
  }
  process.stdout.write(`${JSON.stringify({ attach, detach })}\n`);
}

main();
