// The daemon: owns the store and serves the API on a unix socket until told to stop.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { daemonRouter } from '../api/routes';
import { parseDefaultAddressPool } from '../ipam';
import { ensureBusyboxRoot } from '../launcher';
import { type DaemonOptions, unixSocketPath } from './options';
import { claimPidFile, releasePidFile } from './pidfile';
import { openStack, type Stack } from './stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const NETCTL_VERSION = (require('../../../package.json') as { version: string }).version;

export class Daemon {
  readonly log: pino.Logger;
  private server: http.Server | undefined;
  private stack: Stack | undefined;
  private readonly socketPath: string;
  private readonly pidFile: string;

  constructor(readonly options: DaemonOptions) {
    this.socketPath = unixSocketPath(options.host);
    this.pidFile = path.join(options.runDir, 'netctl.pid');
    // Synchronous: a daemon's log lines are few, and none may be lost when it exits.
    this.log = pino({ level: options.logLevel, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.options.root, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.options.runDir, { recursive: true, mode: 0o755 });
    claimPidFile(this.pidFile);
    try {
      this.stack = await openStack({ root: this.options.root, runDir: this.options.runDir, localPools: this.options.defaultAddressPools.map(parseDefaultAddressPool), dns: this.options.dns, log: this.log });
      const { controller, launcher } = this.stack;
      await controller.ensurePredefined({ bridge: this.options.bridge !== 'none' });
      const router = daemonRouter(controller, launcher, () => ensureBusyboxRoot(this.options.root), NETCTL_VERSION);
      this.server = await listenUnix(this.socketPath, router.listener);
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.log.info({ root: this.options.root, host: this.options.host, version: NETCTL_VERSION }, 'netctl daemon ready');
  }

  /** Stops serving and closes the store; the kernel data plane stays as it is. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      fs.rmSync(this.socketPath, { force: true });
    }
    await this.stack?.close();
    this.stack = undefined;
    releasePidFile(this.pidFile);
  }
}

/** Listens on a unix socket (0660, root), replacing a stale socket file but never a live one. */
async function listenUnix(socketPath: string, listener: http.RequestListener): Promise<http.Server> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  if (fs.existsSync(socketPath)) {
    if (await answers(socketPath)) throw new Error(`${socketPath} is in use by a running server; stop it or choose another -H`);
    fs.rmSync(socketPath);
  }
  const server = http.createServer(listener);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(socketPath, 0o660);
  return server;
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
