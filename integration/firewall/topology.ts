// A small host for firewall tests, built with iproute2 inside test namespaces: a "host" with
// netctl-style bridges, "containers" attached by veth pairs, and an "outside" namespace on a
// veth uplink that has no route back to container subnets (so only masquerading gets replies).
import { execFileSync, spawn } from 'node:child_process';
import { createTestNamespace, type TestNamespace } from '../helpers/netns';

type Teardown = { teardown(fn: () => void): void };

export interface Host {
  host: TestNamespace;
  outside: TestNamespace;
  /** The host's address on the uplink, as the outside sees it. */
  uplinkIp: string;
  addBridge(name: string, gatewayCidr: string): void;
  addContainer(bridge: string, cidr: string, gateway: string): TestNamespace;
}

export function buildHost(t: Teardown): Host {
  const host = createTestNamespace(t, 'nctl-fwh');
  const outside = createTestNamespace(t, 'nctl-fwo');
  host.run('ip', 'link', 'set', 'lo', 'up');
  host.run('sysctl', '-qw', 'net.ipv4.ip_forward=1');
  host.run('ip', 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside.path);
  host.run('ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'uplink');
  host.run('ip', 'link', 'set', 'uplink', 'up');
  outside.run('ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'eth0');
  outside.run('ip', 'link', 'set', 'eth0', 'up');
  outside.run('ip', 'link', 'set', 'lo', 'up');
  let veths = 0;
  return {
    host,
    outside,
    uplinkIp: '192.0.2.1',
    addBridge(name, gatewayCidr) {
      host.run('ip', 'link', 'add', name, 'type', 'bridge');
      host.run('ip', 'addr', 'add', gatewayCidr, 'dev', name);
      host.run('ip', 'link', 'set', name, 'up');
    },
    addContainer(bridge, cidr, gateway) {
      const container = createTestNamespace(t, 'nctl-fwc');
      const hostEnd = `vc${veths++}`;
      host.run('ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', container.path);
      host.run('ip', 'link', 'set', hostEnd, 'master', bridge, 'up');
      // Hairpin lets a container reach its own published port through the host address.
      host.run('bridge', 'link', 'set', 'dev', hostEnd, 'hairpin', 'on');
      container.run('ip', 'addr', 'add', cidr, 'dev', 'eth0');
      container.run('ip', 'link', 'set', 'eth0', 'up');
      container.run('ip', 'link', 'set', 'lo', 'up');
      container.run('ip', 'route', 'add', 'default', 'via', gateway);
      return container;
    },
  };
}

/**
 * Bounded pings; true when a reply came back. Checks that expect success allow a few attempts
 * (a loaded machine can miss one); checks that expect a block should pass attempts = 1.
 */
export function pings(from: Pick<TestNamespace, 'path'>, to: string, attempts = 3): boolean {
  for (let i = 0; i < attempts; i++) {
    try {
      execFileSync('nsenter', [`--net=${from.path}`, 'busybox', 'ping', '-c', '1', '-W', '1', to], { stdio: 'ignore' });
      return true;
    } catch {
      // No reply this time.
    }
  }
  return false;
}

/** A TCP server in `where` on `port` that answers every connection with the peer's address; resolves once it listens. */
export async function tcpEcho(t: Teardown, where: Pick<TestNamespace, 'path'>, port: number): Promise<void> {
  const script = `require('net').createServer((s) => s.end(s.remoteAddress + '\\n')).listen(${port}, '0.0.0.0', () => process.stdout.write('ready\\n'))`;
  const child = spawn('nsenter', [`--net=${where.path}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    // A bound on a hang, not on speed: a Node start took over 10 s on a loaded 2-core machine.
    const timer = setTimeout(() => reject(new Error(`echo server on port ${port} did not start within 30 s`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
}

const BRIDGE_NF_CALL_IPTABLES = '/proc/sys/net/bridge/bridge-nf-call-iptables';

/**
 * Makes frames bridged in `host` pass iptables, as ICC off needs: loads br_netfilter when the
 * kernel lacks its settings, and sets bridge-nf-call-iptables to 1 in the test host, putting the
 * old value back after the test (the setting is per namespace since Linux 5.3, global before).
 */
export function enableBridgeNetfilter(t: Teardown, host: TestNamespace): void {
  const present = (): boolean => {
    try {
      host.run('test', '-e', BRIDGE_NF_CALL_IPTABLES);
      return true;
    } catch {
      return false;
    }
  };
  if (!present()) {
    try {
      execFileSync('modprobe', ['br_netfilter'], { stdio: 'pipe' });
    } catch (error) {
      throw new Error(`bridge netfilter is missing and modprobe br_netfilter failed (${(error as Error).message.trim()}): load br_netfilter on this machine`);
    }
    if (!present()) throw new Error(`br_netfilter is loaded but ${BRIDGE_NF_CALL_IPTABLES} is still missing`);
  }
  const before = host.run('cat', BRIDGE_NF_CALL_IPTABLES).trim();
  host.run('sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1');
  t.teardown(() => {
    if (before !== '1') host.run('sysctl', '-qw', `net.bridge.bridge-nf-call-iptables=${before}`);
  });
}

/** Connects from `from` to ip:port (bounded) and returns what the server said, or '' on failure. */
export function tcpConnect(from: Pick<TestNamespace, 'path'>, ip: string, port: number): string {
  try {
    return execFileSync('nsenter', [`--net=${from.path}`, 'timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${ip}/${port}; cat <&3`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}
