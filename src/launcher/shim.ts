// Starting a container through netctl-shim (addon/shim/netctl-shim.c): the process spawned here
// exits at once (the shim detaches itself from the daemon), and the shim says "pid N" or
// "error MESSAGE" on the stdout they share, then lives on alone.
import { spawn } from 'node:child_process';
import path from 'node:path';

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
}

/** Resolves with the container process's host PID once it runs (its command has been exec'd). */
export function startShim(request: ShimRequest, env: Record<string, string>): Promise<number> {
  const child = spawn(SHIM, [request.stateDir, request.netns, request.rootfs, request.hostname, request.workdir, ...request.cmd], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', (error) => reject(new ContainerStartError(`cannot run ${SHIM}: ${error.message}; build netctl (npm run build)`)));
    // stdout closes when the shim has said its word.
    child.stdout!.once('end', () => {
      child.unref();
      const line = out.trim();
      if (line.startsWith('pid ')) resolve(Number(line.slice(4)));
      else reject(new ContainerStartError(line.startsWith('error ') ? line.slice(6) : `netctl-shim failed: ${(line || err).trim() || 'no output'}`));
    });
  });
}
