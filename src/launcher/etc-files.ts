// The files a container sees as /etc/hosts, /etc/resolv.conf and /etc/hostname, written into its
// state directory and bind-mounted by the shim, as Docker does.
import fs from 'node:fs';
import path from 'node:path';

export interface EtcFiles {
  hostname: string;
  /** The container's own addresses (plain), listed for its hostname. */
  addresses: string[];
}

const HOSTS_HEADER = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];

/** `run --dns`, `--dns-search`, `--dns-option`: each replaces what the host's resolv.conf says. */
export interface DnsSettings {
  servers?: string[];
  search?: string[];
  options?: string[];
}

const linesOf = (conf: string, keyword: RegExp): string[] => conf.split('\n').filter((line) => keyword.test(line)).map((line) => line.trim());

/**
 * A container's resolv.conf. With the embedded DNS (a user-defined network): nameserver
 * 127.0.0.11 (`--dns` servers are what it forwards to), the search domains, `options ndots:0`
 * unless options are given. Without: the servers (`--dns`, else the host's without loopback ones,
 * unreachable from the container's namespace; with none left, Google's, as Docker falls back).
 */
export function containerResolvConf(hostResolvConf: string, embedded: boolean, settings: DnsSettings = {}): string {
  const hostServers = linesOf(hostResolvConf, /^\s*nameserver\s/).filter((line) => !/^nameserver\s+(127\.|::1\b)/.test(line));
  const servers = embedded ? ['nameserver 127.0.0.11'] : settings.servers?.length ? settings.servers.map((ip) => `nameserver ${ip}`) : hostServers.length > 0 ? hostServers : ['nameserver 8.8.8.8', 'nameserver 8.8.4.4'];
  // "." among the search domains means none (and not the host's), as in Docker.
  const domains = (settings.search ?? []).filter((domain) => domain !== '.').map((domain) => domain.replace(/\.$/, ''));
  const search = settings.search?.length ? (domains.length > 0 ? [`search ${domains.join(' ')}`] : []) : linesOf(hostResolvConf, /^\s*(search|domain)\s/).map((line) => line.replace(/^domain\s/, 'search ')).slice(-1);
  const options = settings.options?.length ? [`options ${settings.options.join(' ')}`] : embedded ? ['options ndots:0'] : linesOf(hostResolvConf, /^\s*options\s/);
  return `${[...servers, ...search, ...options].join('\n')}\n`;
}

/**
 * The container's /etc/hosts: localhost and its own addresses under its hostname. Rewritten in
 * place (same inode), so a running container sees the change through its bind mount.
 */
export function writeHosts(stateDir: string, files: EtcFiles): void {
  const hosts = [...HOSTS_HEADER, ...files.addresses.map((address) => `${address}\t${files.hostname}`)];
  overwrite(path.join(stateDir, 'hosts'), `${hosts.join('\n')}\n`);
}

/**
 * Writes the file's new content over the old and cuts off the rest, keeping the inode. Not
 * O_TRUNC: ext4 takes a truncation to zero followed by a rewrite for a file being replaced and
 * starts its write-out at close (auto_da_alloc), which made a connect's hosts update cost ~0.4 ms.
 */
function overwrite(file: string, text: string): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
  try {
    const bytes = Buffer.from(text);
    fs.writeSync(fd, bytes, 0, bytes.length, 0);
    fs.ftruncateSync(fd, bytes.length);
  } finally {
    fs.closeSync(fd);
  }
}

/** The container's /etc files; `embeddedDns` for a container on a network with names. */
export function writeEtcFiles(stateDir: string, files: EtcFiles, embeddedDns: boolean, dns: DnsSettings = {}): void {
  writeHosts(stateDir, files);
  fs.writeFileSync(path.join(stateDir, 'hostname'), `${files.hostname}\n`);
  let host = '';
  try {
    host = fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // No resolv.conf on the host: the fallback resolvers.
  }
  fs.writeFileSync(path.join(stateDir, 'resolv.conf'), containerResolvConf(host, embeddedDns, dns));
}
