// netctl's container CLI in tests: a daemon in a test host with the CLI against it, whose
// containers (they outlive a daemon by design) are removed after the test, and the calls most
// tests make.
import { execFileSync } from 'node:child_process';
import { netctlCli, type Runner } from './cli';
import { type StartOptions, startDaemon, type TestDaemon } from './daemon';

/** `netctl inspect CONTAINER`, the fields tests read. */
export interface ContainerInspect {
  Id: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number };
  NetworkSettings: { SandboxKey: string; Networks: Record<string, { IPAddress: string; Gateway: string; MacAddress: string }> };
}

export async function daemonWithCli(t: Parameters<typeof startDaemon>[0], options: StartOptions): Promise<{ daemon: TestDaemon; netctl: Runner }> {
  const daemon = await startDaemon(t, options);
  const netctl = netctlCli(daemon.socketPath);
  t.teardown(async () => {
    const ids = (await netctl(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await netctl(['rm', '-f', ...ids]);
  });
  return { daemon, netctl };
}

/** A netctl command that must succeed; resolves with its output. */
export async function ok(netctl: Runner, args: string[]): Promise<string> {
  const run = await netctl(args);
  if (run.code !== 0) throw new Error(`netctl ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

export const inspect = async (netctl: Runner, name: string): Promise<ContainerInspect> => (JSON.parse(await ok(netctl, ['inspect', name])) as ContainerInspect[])[0]!;

/**
 * Pings `ip` from inside container `from`; true when a reply came. Bounded: a few attempts where a
 * reply is expected (a loaded machine can miss one), one where it is not.
 */
export async function pings(netctl: Runner, from: string, ip: string, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if ((await netctl(['exec', from, '--', 'ping', '-c', '1', '-W', '1', ip])).code === 0) return true;
  }
  return false;
}

/** The name of the interface holding `ip` in a container's namespace (its sandbox key), read with the host's iproute2. */
export function interfaceWith(sandboxKey: string, ip: string): string {
  const links = JSON.parse(execFileSync('nsenter', [`--net=${sandboxKey}`, 'ip', '-j', 'addr', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
  const link = links.find((l) => l.addr_info.some((a) => a.local === ip));
  if (!link) throw new Error(`no interface holds ${ip} in ${sandboxKey}`);
  return link.ifname;
}
