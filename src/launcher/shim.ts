// Starting a container through netctl-shim (addon/shim/netctl-shim.c): the process spawned here
// exits at once (the shim detaches itself from the daemon), and the shim says "pid N shim M" or
// "error MESSAGE" on the stdout they share, then lives on alone.
import path from 'node:path';
import { runProcess } from '../native/process';

const SHIM = path.resolve(__dirname, '..', '..', '..', 'addon', 'build', 'Release', 'netctl-shim');

/** The command could not be started (not found, a bad working directory...); the message says why. */
export class ContainerStartError extends Error {
  override readonly name = 'ContainerStartError';
}

export interface ShimRequest {
  stateDir: string;
  netns: string;
  rootfs: string;
  hostname: string;
  workdir: string;
  cmd: string[];
  /** How long the start may take before the shim kills it; 20 s when absent. */
  startTimeoutMs?: number;
}

/** The shim sets up mounts and namespaces and execs the command: milliseconds. This long is a hang. */
const DEFAULT_START_TIMEOUT_MS = 20_000;
/**
 * The shim kills a hung start itself (the daemon cannot: what hangs is the shim's detached copy
 * and its child). This backstop beyond it covers a shim that hangs before it could arm that.
 */
const BACKSTOP_MS = 10_000;

/**
 * Resolves with the host PIDs of the container's process, once it runs (its command has been
 * exec'd), and of its shim. The shim is started with posix_spawn off the event loop (the addon's
 * runProcess), as iptables is: child_process would fork the whole daemon for every container.
 */
export async function startShim(request: ShimRequest, env: Record<string, string>): Promise<{ pid: number; shimPid: number }> {
  const startTimeoutMs = request.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const argv = [SHIM, request.stateDir, request.netns, request.rootfs, request.hostname, request.workdir, String(startTimeoutMs), ...request.cmd];
  // Output ends when the shim has said its word and let go of stdout and stderr.
  const result = await runProcess(SHIM, argv, { env, timeoutMs: startTimeoutMs + BACKSTOP_MS }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ETIMEDOUT') throw new ContainerStartError(`the container did not start: ${error.message}; check the command and the machine's load`);
    throw new ContainerStartError(`cannot run ${SHIM}: ${error.message}; build netctl (npm run build)`);
  });
  const line = result.stdout.toString('utf8').trim();
  const started = /^pid (\d+) shim (\d+)$/.exec(line);
  if (started) return { pid: Number(started[1]), shimPid: Number(started[2]) };
  throw new ContainerStartError(line.startsWith('error ') ? line.slice(6) : `netctl-shim failed: ${(line || result.stderr.toString('utf8')).trim() || 'no output'}`);
}
