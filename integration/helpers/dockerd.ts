// A real Docker engine inside a test host, as the benchmarks run it (bench/daemons.ts: its own
// data root, exec root, pidfile and socket, --bridge none), with busybox imported; stopped and
// its directories removed at teardown. `docker` runs the CLI against it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importBusybox, startDockerd } from '../../bench/daemons';
import { runner, type Runner } from './cli';

export interface TestDockerd {
  socketPath: string;
  image: string;
  /** The docker CLI against this engine: stdout, or a rejection with stderr. */
  docker(...args: string[]): Promise<string>;
  /** The same CLI as a Runner (exit code, stdout and stderr), for the helpers that take one. */
  cli: Runner;
}

export async function startTestDockerd(t: { teardown(fn: () => Promise<void> | void): void }, netns: string): Promise<TestDockerd> {
  const engine = await startDockerd(netns);
  t.teardown(() => engine.stop());
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-dockercfg-'));
  t.teardown(() => fs.rmSync(config, { recursive: true, force: true }));
  const image = importBusybox(engine);
  const docker = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile('docker', ['-H', `unix://${engine.socketPath}`, ...args], { env: { ...process.env, DOCKER_CONFIG: config }, timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`docker ${args.join(' ')}: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
    });
  const cli = runner(['docker', '-H', `unix://${engine.socketPath}`], { DOCKER_CONFIG: config }, 120_000);
  return { socketPath: engine.socketPath, image, docker, cli };
}
