// `netctl daemon`: runs the daemon in the foreground until SIGTERM or SIGINT.
import net from 'node:net';
import path from 'node:path';
import { Daemon } from '../daemon/daemon';
import { dockerPluginSocket } from '../daemon/docker-plugin';
import { native } from '../native/addon';
import { DEFAULT_HOST, DEFAULT_ROOT, DEFAULT_RUN_DIR, type DaemonOptions, defaultOptions } from '../daemon/options';
import { type FlagSpec, helpText, parseArgs, UsageError } from './args';
import { CLUSTER_FLAGS, type ClusterFlags, parseClusterFlags } from './cluster-flags';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export const DAEMON_FLAGS: FlagSpec[] = [
  { name: 'root', type: 'string', description: 'directory of durable state (store, container files)', defaultText: DEFAULT_ROOT },
  { name: 'exec-root', type: 'string', description: 'directory of runtime state (pid file, namespaces)', defaultText: DEFAULT_RUN_DIR },
  { name: 'host', short: 'H', type: 'string', description: 'socket to serve the API on', defaultText: DEFAULT_HOST },
  { name: 'bridge', type: 'string', description: '"none" disables the default bridge network' },
  { name: 'default-address-pool', type: 'list', description: 'default pool for networks, base=CIDR,size=N (repeatable)' },
  { name: 'dns', type: 'list', description: "resolver the embedded DNS forwards to (repeatable, at most 3; default: the host's /etc/resolv.conf)" },
  { name: 'log-level', type: 'string', description: `one of ${LOG_LEVELS.join(', ')}`, defaultText: 'info' },
  { name: 'cluster-store', type: 'string', description: 'join a cluster: etcd://HOST:PORT[,HOST:PORT...], or "embedded" to run etcd here (first host)' },
  { name: 'advertise-addr', type: 'string', description: 'IP address or interface other cluster members reach this host at' },
  { name: 'gossip-port', type: 'string', description: 'UDP and TCP port of cluster gossip', defaultText: '7946' },
  { name: 'gossip-key', type: 'string', description: 'file with the 32-byte cluster key (raw or base64); without it gossip is unencrypted' },
  { name: 'node-name', type: 'string', description: 'name of this host in the cluster, unique', defaultText: 'the hostname' },
  { name: 'docker-plugin', type: 'string', description: 'also serve as a Docker network and IPAM plugin NAME, on /run/docker/plugins/NAME.sock (or on the socket path given)' },
  { name: 'help', type: 'boolean', description: 'print this help' },
];

export const DAEMON_HELP = helpText('netctl daemon [OPTIONS]', 'Run the netctl daemon in the foreground.', DAEMON_FLAGS);

export function parseDaemonOptions(argv: string[]): DaemonOptions {
  const { flags, positionals } = parseArgs(argv, DAEMON_FLAGS, 'daemon');
  if (positionals.length > 0) throw new UsageError(`"netctl daemon" takes no arguments, got "${positionals.join(' ')}"`);
  const options = defaultOptions();
  options.root = (flags.get('root') as string | undefined) ?? options.root;
  options.runDir = (flags.get('exec-root') as string | undefined) ?? options.runDir;
  options.host = (flags.get('host') as string | undefined) ?? options.host;
  options.bridge = (flags.get('bridge') as string | undefined) ?? options.bridge;
  if (options.bridge !== '' && options.bridge !== 'none') {
    throw new UsageError(`invalid --bridge "${options.bridge}": only "none" is supported (it disables the default bridge network)`);
  }
  options.defaultAddressPools = (flags.get('default-address-pool') as string[] | undefined) ?? [];
  options.dns = (flags.get('dns') as string[] | undefined) ?? [];
  const badDns = options.dns.find((ip) => net.isIP(ip) === 0);
  if (badDns !== undefined) throw new UsageError(`invalid --dns "${badDns}": give the IP address of a resolver, e.g. --dns 192.0.2.53`);
  if (options.dns.length > 3) throw new UsageError(`too many --dns resolvers (${options.dns.length}): at most 3, as in resolv.conf`);
  const level = (flags.get('log-level') as string | undefined) ?? options.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`invalid --log-level "${level}": use one of ${LOG_LEVELS.join(', ')}`);
  options.logLevel = level as DaemonOptions['logLevel'];
  const plugin = flags.get('docker-plugin') as string | undefined;
  if (plugin !== undefined) {
    if (!path.isAbsolute(plugin) && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(plugin)) throw new UsageError(`invalid --docker-plugin "${plugin}": give a plugin name (letters, digits, "_", ".", "-") or an absolute socket path`);
    options.dockerPluginSocket = dockerPluginSocket(plugin);
  }
  const clusterFlags: ClusterFlags = {};
  for (const name of CLUSTER_FLAGS) if (flags.has(name)) clusterFlags[name] = flags.get(name) as string;
  const cluster = parseClusterFlags(clusterFlags);
  if (cluster) options.cluster = cluster;
  return options;
}

export async function runDaemon(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(DAEMON_HELP);
    return 0;
  }
  const options = parseDaemonOptions(argv);
  // A long-running process with a 32-thread pool: two malloc arenas instead of up to 16 keep
  // ~10 MB less resident (measured with 500 containers); fixed 128 KiB thresholds keep ~10 MB
  // less once V8 has optimised the attach path (its compiler's scratch memory is returned).
  native().limitMallocRetention(2, 128 * 1024);
  // Descriptors per sandbox (its netlink socket, DNS listeners): a shell's soft limit of 1,024
  // would stop the daemon at a few hundred containers.
  native().raiseOpenFileLimit();
  const daemon = new Daemon(options);
  await daemon.start();
  return new Promise<number>((resolve) => {
    const shutdown = (signal: NodeJS.Signals): void => {
      daemon.log.info({ signal }, 'shutting down');
      daemon.stop().then(
        () => resolve(0),
        (error: unknown) => {
          daemon.log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}
