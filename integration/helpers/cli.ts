// Runs a command line (netctl's CLI, Docker's) asynchronously and collects its output: a
// synchronous spawn would stall the other tests of a file (and their daemons' start-up checks).
import { spawn } from 'node:child_process';
import path from 'node:path';

export const NETCTL_CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type Runner = (args: string[], input?: string) => Promise<Run>;

export function runner(command: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Runner {
  return (args, input) =>
    new Promise((resolve, reject) => {
      const child = spawn(command[0]!, [...command.slice(1), ...args], { env: { ...process.env, ...env }, timeout: timeoutMs });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    });
}

/** netctl's CLI (this checkout's, or `cli`: another's main.js) against the daemon listening on `socketPath`. */
export const netctlCli = (socketPath: string, cli = NETCTL_CLI): Runner => runner([process.execPath, cli, '-H', `unix://${socketPath}`]);
