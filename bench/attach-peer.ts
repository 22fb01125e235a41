// Runs inside a test host (`nsenter --net=HOST node attach-peer.js KIND DRIVER WORKDIR`): attaches
// fresh namespaces to one network of DRIVER (bridge, or macvlan on the test host's `ul0`) with the
// CNI plugin of that name (host-local IPAM) or netavark, one at a time, and detaches them again,
// timing each call as its users make it: a process per call, started as Go and Rust callers
// (podman, containerd) start one (see peer-call.ts).
// It works in rounds the bench asks for, so that every contender is timed in the same stretch of
// the machine's (varying) speed. Started, it answers {} on a line of stdout; a line `attach N` on stdin attaches the next N namespaces and
// answers {"attach": [ms...]} on a line of stdout; `detach N` detaches the next N, answering
// {"detach": [ms...]}; end of input removes what is left and exits.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createNamespace, deleteNamespace } from '../src/native/netns';
import { type AttachDriver, expectAttached, MACVLAN_PARENT } from './links';
import { CNI_PLUGINS, cniEnvironment, type PeerCall, timedCall } from './peer-call';

const NETAVARK = '/usr/lib/podman/netavark';

interface Peer {
  attach(index: number, netns: string): PeerCall;
  detach(index: number, netns: string): PeerCall;
}

/** One network as each peer is configured for it; the /16s differ per peer only to tell them apart. */
interface PeerNetwork {
  /** The CNI plugin's own fields (name and ipam are added); `type` names the binary. */
  cni: { type: string } & Record<string, unknown>;
  cniSubnet: string;
  /** netavark's network_info fields that depend on the driver. */
  netavark: { driver: string; network_interface: string; options?: Record<string, string> };
  /** First two octets of netavark's /16. */
  netavarkNet: string;
}

const NETWORKS: Record<AttachDriver, PeerNetwork> = {
  bridge: {
    cni: { type: 'bridge', bridge: 'cni-bench', isGateway: true, ipMasq: true },
    cniSubnet: '10.91.0.0/16',
    netavark: { driver: 'bridge', network_interface: 'nv-bench' },
    netavarkNet: '10.92',
  },
  macvlan: {
    cni: { type: 'macvlan', master: MACVLAN_PARENT, mode: 'bridge' },
    cniSubnet: '10.97.0.0/16',
    netavark: { driver: 'macvlan', network_interface: MACVLAN_PARENT, options: { mode: 'bridge' } },
    netavarkNet: '10.98',
  },
};

function cni(network: PeerNetwork, workdir: string): Peer {
  const plugin = path.join(CNI_PLUGINS, network.cni.type);
  const config = JSON.stringify({ cniVersion: '1.0.0', name: 'bench', ...network.cni, ipam: { type: 'host-local', subnet: network.cniSubnet, dataDir: path.join(workdir, 'ipam') } });
  const call = (command: 'ADD' | 'DEL', index: number, netns: string): PeerCall => ({
    what: `CNI ${network.cni.type} ${command}`,
    file: plugin,
    argv: [plugin],
    env: cniEnvironment(command, `bench${index}`, netns),
    input: config,
  });
  return { attach: (i, ns) => call('ADD', i, ns), detach: (i, ns) => call('DEL', i, ns) };
}

function netavark(network: PeerNetwork, workdir: string): Peer {
  const net = network.netavarkNet;
  // netavark leaves address management to its caller (podman): the addresses are given.
  const options = (index: number): string =>
    JSON.stringify({
      container_id: index.toString(16).padStart(64, '0'),
      container_name: `bench${index}`,
      networks: { bench: { interface_name: 'eth0', static_ips: [`${net}.${(index + 2) >> 8}.${(index + 2) & 255}`] } },
      network_info: {
        bench: { dns_enabled: false, id: 'b'.repeat(64), internal: false, ipv6_enabled: false, name: 'bench', ...network.netavark, ipam_options: { driver: 'host-local' }, subnets: [{ subnet: `${net}.0.0/16`, gateway: `${net}.0.1` }] },
      },
    });
  const call = (command: string, index: number, netns: string): PeerCall => ({
    what: `netavark ${network.netavark.driver} ${command}`,
    file: NETAVARK,
    argv: [NETAVARK, '--config', path.join(workdir, 'netavark'), command, netns],
    input: options(index),
  });
  return { attach: (i, ns) => call('setup', i, ns), detach: (i, ns) => call('teardown', i, ns) };
}

const isDriver = (text: string | undefined): text is AttachDriver => text !== undefined && Object.hasOwn(NETWORKS, text);
const PEERS: Record<string, (network: PeerNetwork, workdir: string) => Peer> = { cni, netavark };

/** The lines of stdin, read as they come (the bench writes one command at a time and waits). */
function* lines(): Generator<string> {
  const buffer = Buffer.alloc(4096);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let pending = '';
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      // A non-blocking stdin with nothing yet: wait a little rather than spin a core the others are timed on.
      Atomics.wait(nap, 0, 0, 5);
      continue;
    }
    if (n === 0) return;
    pending += buffer.toString('utf8', 0, n);
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      yield pending.slice(0, end);
      pending = pending.slice(end + 1);
    }
  }
}

function main(): void {
  const [kind, driver, workdir] = process.argv.slice(2);
  const makePeer = kind !== undefined && Object.hasOwn(PEERS, kind) ? PEERS[kind] : undefined;
  if (!makePeer || !isDriver(driver) || !workdir) throw new Error('usage: attach-peer.js cni|netavark bridge|macvlan WORKDIR');
  const peer = makePeer(NETWORKS[driver], workdir);
  fs.mkdirSync(workdir, { recursive: true });
  const namespaces: string[] = [];
  let detached = 0;
  const answer = (reply: Record<string, number[]>): void => void fs.writeSync(1, `${JSON.stringify(reply)}\n`);
  answer({});
  try {
    for (const line of lines()) {
      const [command, countText] = line.trim().split(/\s+/);
      const count = Number(countText);
      if (!Number.isInteger(count) || count < 1) throw new Error(`bad command "${line}": expected attach N or detach N`);
      const times: number[] = [];
      if (command === 'attach') {
        for (let n = 0; n < count; n++) {
          const i = namespaces.length;
          const netns = createNamespace(path.join(workdir, 'netns'), `c${i}`);
          namespaces.push(netns);
          times.push(timedCall(peer.attach(i, netns), workdir));
          if (i === 0) expectAttached(netns, driver, `${kind} ${driver}`);
        }
        answer({ attach: times });
      } else if (command === 'detach' && detached + count <= namespaces.length) {
        for (let n = 0; n < count; n++, detached++) times.push(timedCall(peer.detach(detached, namespaces[detached]!), workdir));
        answer({ detach: times });
      } else {
        throw new Error(`bad command "${line}": expected attach N, or detach N of the ${namespaces.length - detached} attached`);
      }
    }
  } finally {
    for (const netns of namespaces) deleteNamespace(netns);
    spawnSync('umount', [path.join(workdir, 'netns')]);
  }
}

main();
