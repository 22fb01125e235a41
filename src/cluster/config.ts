// The pure parts of a daemon's cluster settings: the --cluster-store value, gossip key files and
// the ids keys are shown by (a key itself is never shown).
import crypto from 'node:crypto';
import net from 'node:net';
import { MAX_NAME_BYTES } from './codec';
import { KEY_BYTES } from './keyring';

export const DEFAULT_GOSSIP_PORT = 7946;
export const DEFAULT_ETCD_CLIENT_PORT = 2379;

export class ClusterConfigError extends Error {
  override readonly name = 'ClusterConfigError';
}

/** Where the daemons of a cluster find each other: an etcd of the admin's, or one the daemon runs itself. */
export type ClusterStoreSpec = { kind: 'etcd'; endpoints: string[] } | { kind: 'embedded' };

/** `etcd://HOST:PORT[,HOST:PORT...]` or `embedded`. */
export function parseClusterStore(value: string): ClusterStoreSpec {
  if (value === 'embedded') return { kind: 'embedded' };
  const usage = 'use etcd://HOST:PORT[,HOST:PORT...] (e.g. etcd://10.0.0.1:2379) or "embedded"';
  if (!value.startsWith('etcd://')) throw new ClusterConfigError(`invalid --cluster-store "${value}": ${usage}`);
  const endpoints = value
    .slice('etcd://'.length)
    .split(',')
    .map((hostPort) => {
      const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+):(\d{1,5})$/.exec(hostPort);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65_535) throw new ClusterConfigError(`invalid etcd endpoint "${hostPort}" in --cluster-store "${value}": ${usage}`);
      return `http://${match[1]}:${port}`;
    });
  return { kind: 'etcd', endpoints };
}

export function parseGossipPort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65_535) throw new ClusterConfigError(`invalid --gossip-port "${value}": give a port between 1 and 65535`);
  return port;
}

/** A node name as membership takes it, without whitespace (it is shown in tables). */
export function checkNodeName(name: string): string {
  if (name.length === 0 || Buffer.byteLength(name) > MAX_NAME_BYTES || /\s/.test(name)) {
    throw new ClusterConfigError(`invalid --node-name "${name}": give 1 to ${MAX_NAME_BYTES} bytes without spaces, unique in the cluster`);
  }
  return name;
}

/** An --advertise-addr that is an IP address rather than an interface name. */
export const isAddress = (value: string): boolean => net.isIP(value) !== 0;

/**
 * A key file's content: exactly 32 raw bytes, or the base64 of 32 bytes (surrounding whitespace
 * allowed). `source` names the file in the error.
 */
export function parseGossipKey(content: Buffer, source: string): Buffer {
  if (content.length === KEY_BYTES) return Buffer.from(content);
  const key = strictBase64(content.toString('latin1').trim());
  if (key) {
    if (key.length === KEY_BYTES) return key;
    throw new ClusterConfigError(`gossip key ${source} is base64 of ${key.length} bytes: a key is ${KEY_BYTES} bytes (AES-256); make one with \`head -c 32 /dev/urandom | base64 > FILE\``);
  }
  throw new ClusterConfigError(
    `gossip key ${source} holds ${content.length} bytes that are neither ${KEY_BYTES} raw bytes nor their base64; make one with \`head -c 32 /dev/urandom > FILE\` or \`head -c 32 /dev/urandom | base64 > FILE\``,
  );
}

/** The bytes of standard, padded base64 text; undefined for anything else (Buffer.from would skip the junk). */
export function strictBase64(text: string): Buffer | undefined {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0 ? Buffer.from(text, 'base64') : undefined;
}

/** How a key is named in listings and in `key use/rm`: the start of its SHA-256, which does not reveal the key. */
export function keyId(key: Buffer): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 12);
}
