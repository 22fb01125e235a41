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

/**
 * The host's resolv.conf without loopback nameservers (unreachable from a container's own
 * namespace); with none left, Google's public resolvers, as Docker falls back.
 */
export function containerResolvConf(hostResolvConf: string): string {
  const lines = hostResolvConf.split('\n').filter((line) => line.trim() !== '' && !/^\s*nameserver\s+(127\.|::1\b)/.test(line));
  if (!lines.some((line) => /^\s*nameserver\s/.test(line))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return `${lines.join('\n')}\n`;
}

/**
 * The container's /etc/hosts: localhost and its own addresses under its hostname. Rewritten in
 * place (same inode), so a running container sees the change through its bind mount.
 */
export function writeHosts(stateDir: string, files: EtcFiles): void {
  const hosts = [...HOSTS_HEADER, ...files.addresses.map((address) => `${address}\t${files.hostname}`)];
  fs.writeFileSync(path.join(stateDir, 'hosts'), `${hosts.join('\n')}\n`);
}

/**
 * On a user-defined network, Docker's resolv.conf: the embedded DNS, the host's search domains,
 * ndots:0 (a dotted name such as `web.front` is asked as it is).
 */
export function embeddedResolvConf(hostResolvConf: string): string {
  const search = hostResolvConf.split('\n').filter((line) => /^\s*(search|domain)\s/.test(line)).map((line) => line.trim().replace(/^domain\s/, 'search '));
  return `${['nameserver 127.0.0.11', ...search.slice(-1), 'options ndots:0'].join('\n')}\n`;
}

/** The container's /etc files; `embeddedDns` for a container on a network with names. */
export function writeEtcFiles(stateDir: string, files: EtcFiles, embeddedDns: boolean): void {
  writeHosts(stateDir, files);
  fs.writeFileSync(path.join(stateDir, 'hostname'), `${files.hostname}\n`);
  let host = '';
  try {
    host = fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // No resolv.conf on the host: the fallback resolvers.
  }
  fs.writeFileSync(path.join(stateDir, 'resolv.conf'), embeddedDns ? embeddedResolvConf(host) : containerResolvConf(host));
}
