// `--cluster-store embedded`: the daemon runs Debian's etcd (etcd-server) as its own child, a
// single-member cluster with its data under the daemon's root and its client URL on the advertise
// address, so the first host of a cluster needs one command. Restarted if it dies (bounded
// backoff), stopped with the daemon, and killed by the kernel if the daemon is (parent-death signal).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ETCD_CLIENT_PORT } from '../cluster/config';
import type { Logger } from '../util/logger';

const ETCD = '/usr/bin/etcd';
const SETPRIV = '/usr/bin/setpriv';
const PEER_PORT = 2380;
const HEALTHY_WITHIN_MS = 30_000;
const STOP_WITHIN_MS = 5_000;
const MAX_RESTART_DELAY_MS = 30_000;

export interface EmbeddedEtcdOptions {
  /** The daemon's root; etcd keeps its data in <root>/etcd. */
  root: string;
  name: string;
  /** The advertise address: etcd listens there (and on 127.0.0.1) for clients. */
  address: string;
  log: Logger;
}

const url = (address: string, port: number): string => `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

export class EmbeddedEtcd {
  readonly endpoint: string;
  private child: ChildProcess | undefined;
  private restartDelayMs = 1_000;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private stderrTail = '';

  private constructor(private readonly options: EmbeddedEtcdOptions) {
    this.endpoint = url(options.address, DEFAULT_ETCD_CLIENT_PORT);
  }

  /** Starts etcd and resolves once it answers /health. */
  static async start(options: EmbeddedEtcdOptions): Promise<EmbeddedEtcd> {
    if (!fs.existsSync(ETCD)) throw new Error(`--cluster-store embedded needs ${ETCD}: install Debian's etcd-server package (apt-get install etcd-server), or give --cluster-store etcd://HOST:PORT`);
    const etcd = new EmbeddedEtcd(options);
    try {
      await etcd.launch();
    } catch (error) {
      await etcd.stop();
      throw error;
    }
    return etcd;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WITHIN_MS);
    await exited;
    clearTimeout(timer);
  }

  private async launch(): Promise<void> {
    const { root, name, address } = this.options;
    const args = [
      '--name', name,
      '--data-dir', path.join(root, 'etcd'),
      '--listen-client-urls', [url(address, DEFAULT_ETCD_CLIENT_PORT), ...(address === '127.0.0.1' ? [] : [url('127.0.0.1', DEFAULT_ETCD_CLIENT_PORT)])].join(','),
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', url(address, PEER_PORT),
      '--initial-advertise-peer-urls', url(address, PEER_PORT),
      '--initial-cluster', `${name}=${url(address, PEER_PORT)}`,
      '--initial-cluster-token', `netctl-${name}`,
      '--log-level', 'error',
    ];
    const [file, argv] = fs.existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', ETCD, ...args]] : [ETCD, args];
    this.stderrTail = '';
    const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000)));
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    const deadline = Date.now() + HEALTHY_WITHIN_MS;
    while (!(await this.healthy())) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`embedded etcd exited (${child.exitCode ?? child.signalCode}) before it answered: ${this.stderrTail.trim() || 'no output'}`);
      if (Date.now() > deadline) {
        // Killed, its exit schedules the next restart (a first start's caller gives up instead).
        child.kill('SIGKILL');
        throw new Error(`embedded etcd did not answer at ${this.endpoint}/health within ${HEALTHY_WITHIN_MS / 1000} s: ${this.stderrTail.trim() || 'no output'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.restartDelayMs = 1_000;
    this.options.log.info({ endpoint: this.endpoint, pid: child.pid, dataDir: path.join(root, 'etcd') }, 'embedded etcd running');
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || child !== this.child) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
    this.options.log.error({ code, signal, restartInMs: delay, output: this.stderrTail.trim() }, 'embedded etcd exited; restarting it');
    this.restartTimer = setTimeout(() => {
      this.launch().catch((error: unknown) => this.options.log.error({ err: error }, 'restarting embedded etcd failed'));
    }, delay);
  }

  private async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(1_000) });
      return response.ok && ((await response.json()) as { health?: string }).health === 'true';
    } catch {
      return false;
    }
  }
}
