// The daemon: owns the store and serves the API on a unix socket until told to stop.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import pino from 'pino';
import { daemonRouter } from '../api/routes';
import { parseDefaultAddressPool } from '../ipam';
import { reportUnhandledTo } from '../native/callback-guard';
import type { NetworkChange } from '../controller';
import { EventBus } from '../events/bus';
import { ImageStore } from '../images';
import { ensureBusyboxRoot } from '../launcher';
import { listenUnix } from './api-server';
import { type DaemonCluster, openCluster } from './cluster';
import { DockerPlugin } from './docker-plugin';
import { engineId } from './engine-id';
import { type DaemonOptions, unixSocketPath } from './options';
import { claimPidFile, releasePidFile } from './pidfile';
import { openStack, type Stack } from './stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const NETCTL_VERSION = (require('../../../package.json') as { version: string }).version;

export class Daemon {
  readonly log: pino.Logger;
  private server: http.Server | undefined;
  private stack: Stack | undefined;
  private cluster: DaemonCluster | undefined;
  private plugin: DockerPlugin | undefined;
  private readonly socketPath: string;
  private readonly pidFile: string;

  constructor(readonly options: DaemonOptions) {
    this.socketPath = unixSocketPath(options.host);
    this.pidFile = path.join(options.runDir, 'netctl.pid');
    // Synchronous: a daemon's log lines are few, and none may be lost when it exits.
    this.log = pino({ level: options.logLevel, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
    reportUnhandledTo(this.log);
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.options.root, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.options.runDir, { recursive: true, mode: 0o755 });
    claimPidFile(this.pidFile);
    try {
      const cluster = this.options.cluster && (this.cluster = await openCluster(this.options.cluster, this.options.root, this.log));
      const events = new EventBus();
      this.stack = await openStack({
        root: this.options.root,
        runDir: this.options.runDir,
        localPools: this.options.defaultAddressPools.map(parseDefaultAddressPool),
        dns: this.options.dns,
        log: this.log,
        events,
        ...(cluster ? { globalStore: cluster.globalStore, nodeName: this.options.cluster!.nodeName, advertiseAddress: cluster.advertiseAddress, tables: cluster.agent } : {}),
      });
      const { controller, launcher } = this.stack;
      controller.onChange((change) => events.publish('network', change.action, change.network.id, networkAttributes(change)));
      await controller.ensurePredefined({ bridge: this.options.bridge !== 'none' });
      await cluster?.agent.start(controller);
      const images = new ImageStore({ root: this.options.root, busyboxRoot: () => ensureBusyboxRoot(this.options.root), log: this.log, events });
      images.load();
      const engine = { id: engineId(this.options.root), root: this.options.root, version: NETCTL_VERSION, eventListeners: () => events.subscribers };
      const router = daemonRouter({ controller, launcher, images, events, engine, ...(cluster ? { cluster: cluster.agent } : {}) });
      // Before the API: a daemon that answers is one Docker can use.
      if (this.options.dockerPluginSocket) {
        this.plugin = await DockerPlugin.open({ socketPath: this.options.dockerPluginSocket, root: this.options.root, localPools: this.options.defaultAddressPools.map(parseDefaultAddressPool), log: this.log });
      }
      this.server = await listenUnix(this.socketPath, router.listener, this.log);
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.log.info({ root: this.options.root, host: this.options.host, version: NETCTL_VERSION }, 'netctl daemon ready');
  }

  /** Stops serving, leaves the cluster and closes the stores; the kernel data plane stays as it is. */
  async stop(): Promise<void> {
    await this.plugin?.close();
    this.plugin = undefined;
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      fs.rmSync(this.socketPath, { force: true });
    }
    // Leave first, so the others see "left" at once rather than a member that stopped answering.
    await this.cluster?.agent.stop();
    await this.stack?.close();
    this.stack = undefined;
    await this.cluster?.close();
    this.cluster = undefined;
    releasePidFile(this.pidFile);
  }
}

/** Docker's attributes of a network event: the network's name and driver, and a connect's container. */
function networkAttributes(change: NetworkChange): Record<string, string> {
  const container: Record<string, string> = change.endpoint ? { container: change.containerId ?? change.endpoint.sandboxId } : {};
  return { ...container, name: change.network.name, type: change.network.driver };
}
