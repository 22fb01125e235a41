// Starting a container through netctl-shim (addon/shim/netctl-shim.c): the process spawned here
// exits at once (the shim detaches itself from the daemon), and the shim says "pid N shim M" or
// "error MESSAGE" on the stdout they share, then lives on alone. `netctl-shim exec` runs a
// command in a running container, confined as its first process.
import fs from 'node:fs';
import path from 'node:path';
import { runProcess, spawnStreaming, type StreamingProcess } from '../native/process';

const SHIM = path.resolve(__dirname, '..', '..', '..', 'addon', 'build', 'Release', 'netctl-shim');

/** The command could not be started (not found, a bad working directory...); the message says why. */
export class ContainerStartError extends Error {
  override readonly name = 'ContainerStartError';
}

/** How the container's processes are confined (see confinement.ts); Docker's defaults when absent. */
export interface ShimConfinement {
  /** Bit N = capability N. */
  capabilities: bigint;
  noNewPrivileges: boolean;
  privileged: boolean;
  /** A root-only directory where the shim keeps the seccomp filters it builds, for later starts. */
  seccompCache?: string;
}

/** A container's or exec's stdio: a pty (tty), stdin kept open (openStdin), the pty's first size. */
export interface ShimStdio {
  tty?: boolean;
  openStdin?: boolean;
  size?: ConsoleSize;
}

export interface ConsoleSize {
  rows: number;
  columns: number;
}

export interface ShimRequest extends ShimStdio {
  stateDir: string;
  netns: string;
  rootfs: string;
  hostname: string;
  workdir: string;
  cmd: string[];
  /** The command's environment (KEY=VALUE). */
  env: string[];
  confinement?: ShimConfinement;
  /** How long the start may take before the shim kills it; 20 s when absent. */
  startTimeoutMs?: number;
}

export interface ShimExecRequest extends ShimStdio {
  stateDir: string;
  /** The container's first process, as the host sees it, and its start time (a PID alone may be reused). */
  pid: number;
  startTicks: number;
  workdir: string;
  cmd: string[];
  env: string[];
  confinement?: ShimConfinement;
}

/** The shim sets up mounts and namespaces and execs the command: milliseconds. This long is a hang. */
const DEFAULT_START_TIMEOUT_MS = 20_000;
/**
 * The shim kills a hung start itself (the daemon cannot: what hangs is the shim's detached copy
 * and its child). This backstop beyond it covers a shim that hangs before it could arm that.
 */
const BACKSTOP_MS = 10_000;

/**
 * The command's environment, NUL-separated in a file only root reads: as the shim's own
 * environment it would configure the host-side shim (LD_PRELOAD), and on its command line every
 * user of the host could read it.
 */
function writeEnvFile(stateDir: string, env: readonly string[]): string {
  const file = path.join(stateDir, 'env');
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, env.map((entry) => `${entry}\0`).join(''), { mode: 0o600 });
  fs.renameSync(temporary, file);
  return file;
}

/** The shim's options, before its positional arguments. */
function shimOptions(stateDir: string, env: readonly string[], confinement: ShimConfinement | undefined, stdio: ShimStdio): string[] {
  const confine = confinement
    ? [
        '--caps',
        confinement.capabilities.toString(16),
        ...(confinement.noNewPrivileges ? ['--no-new-privileges'] : []),
        ...(confinement.privileged ? ['--privileged'] : []),
        ...(confinement.seccompCache !== undefined ? ['--seccomp-cache', confinement.seccompCache] : []),
      ]
    : [];
  const terminal = [...(stdio.tty ? ['--tty'] : []), ...(stdio.openStdin ? ['--stdin'] : []), ...(stdio.tty && stdio.size ? ['--size', `${stdio.size.rows},${stdio.size.columns}`] : [])];
  return [...confine, ...terminal, '--env-file', writeEnvFile(stateDir, env), '--'];
}

/**
 * Resolves with the host PIDs of the container's process, once it runs (its command has been
 * exec'd), and of its shim. The shim is started with posix_spawn off the event loop (the addon's
 * runProcess), as iptables is: child_process would fork the whole daemon for every container.
 */
export async function startShim(request: ShimRequest): Promise<{ pid: number; shimPid: number }> {
  const startTimeoutMs = request.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const options = shimOptions(request.stateDir, request.env, request.confinement, request);
  const argv = [SHIM, ...options, request.stateDir, request.netns, request.rootfs, request.hostname, request.workdir, String(startTimeoutMs), ...request.cmd];
  // Output ends when the shim has said its word and let go of stdout and stderr.
  const result = await runProcess(SHIM, argv, { env: {}, timeoutMs: startTimeoutMs + BACKSTOP_MS }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ETIMEDOUT') throw new ContainerStartError(`the container did not start: ${error.message}; check the command and the machine's load`);
    throw new ContainerStartError(`cannot run ${SHIM}: ${error.message}; build netctl (npm run build)`);
  });
  const line = result.stdout.toString('utf8').trim();
  const started = /^pid (\d+) shim (\d+)$/.exec(line);
  if (started) return { pid: Number(started[1]), shimPid: Number(started[2]) };
  throw new ContainerStartError(line.startsWith('error ') ? line.slice(6) : `netctl-shim failed: ${(line || result.stderr.toString('utf8')).trim() || 'no output'}`);
}

/**
 * `netctl-shim exec`, its output streamed; it exits with the command's code, or 126 with the
 * reason on stderr when the command could not start. With a tty or stdin, the shim's stdin is
 * its control channel (see ControlChannel). posix_spawn (the addon), not child_process, which
 * would fork the whole daemon for each exec.
 */
export function execShim(request: ShimExecRequest): Promise<StreamingProcess> {
  const options = shimOptions(request.stateDir, request.env, request.confinement, request);
  const argv = [SHIM, 'exec', ...options, String(request.pid), String(request.startTicks), request.workdir, ...request.cmd];
  return spawnStreaming(SHIM, argv, { env: {}, stdinPipe: request.tty === true || request.openStdin === true });
}
