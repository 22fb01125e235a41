// Finding a Docker plugin by name, by Docker's rules for plugins that are not managed: a socket
// in the sockets directory first, then a spec file (.spec: one URL; .json: Name, Addr, TLSConfig)
// in each spec directory, each also in a subdirectory of the plugin's name. First match wins.
import fs from 'node:fs';
import path from 'node:path';

export const DOCKER_PLUGIN_SOCKETS_DIR = '/run/docker/plugins';
export const DOCKER_PLUGIN_SPEC_DIRS: readonly string[] = ['/etc/docker/plugins', '/usr/lib/docker/plugins'];

export interface DiscoveryRoots {
  socketsDir: string;
  specDirs: readonly string[];
}

export const DOCKER_ROOTS: DiscoveryRoots = { socketsDir: DOCKER_PLUGIN_SOCKETS_DIR, specDirs: DOCKER_PLUGIN_SPEC_DIRS };

export interface PluginTls {
  insecureSkipVerify: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Where a plugin listens: a unix socket, or a TCP address (http, or https with `tls`). */
export type PluginAddress =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls?: PluginTls };

export interface FoundPlugin {
  name: string;
  address: PluginAddress;
  /** The file it was found by, for messages. */
  source: string;
}

/** A spec file that names no usable address; the message says which file and what is wrong. */
export class PluginSpecError extends Error {
  override readonly name = 'PluginSpecError';
}

const candidates = (base: string, name: string, ext: string): string[] => [path.join(base, name + ext), path.join(base, name, name + ext)];

/** The plugin called `name`, or undefined when no socket or spec file of that name exists. */
export function findPlugin(name: string, roots: DiscoveryRoots = DOCKER_ROOTS): FoundPlugin | undefined {
  // A name with a separator would look outside the plugin directories.
  if (name === '' || name.includes('/') || name === '.' || name === '..') return undefined;
  for (const socketPath of candidates(roots.socketsDir, name, '.sock')) {
    if (statOf(socketPath)?.isSocket()) return { name, address: { kind: 'unix', socketPath }, source: socketPath };
  }
  for (const dir of roots.specDirs) {
    for (const file of [...candidates(dir, name, '.spec'), ...candidates(dir, name, '.json')]) {
      if (!statOf(file)?.isFile()) continue;
      const address = file.endsWith('.json') ? jsonSpecAddress(file) : specAddress(file, fs.readFileSync(file, 'utf8').trim());
      return { name, address, source: file };
    }
  }
  return undefined;
}

function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/** A .spec file's URL: unix:///path.sock or tcp://host:port (http(s):// as a .json's Addr may be). */
export function specAddress(file: string, url: string, tls?: PluginTls): PluginAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PluginSpecError(`plugin spec ${file}: "${url}" is not a URL; write unix:///path/to.sock or tcp://host:port`);
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (scheme === 'unix') {
    const socketPath = parsed.pathname || parsed.host;
    if (!socketPath) throw new PluginSpecError(`plugin spec ${file}: "${url}" names no socket path`);
    return { kind: 'unix', socketPath: decodeURIComponent(socketPath) };
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    const port = Number(parsed.port || (scheme === 'https' ? 443 : 80));
    if (!parsed.hostname) throw new PluginSpecError(`plugin spec ${file}: "${url}" names no host`);
    // Docker speaks TLS to a tcp address only when a TLSConfig says so, and always to https.
    const useTls = tls ?? (scheme === 'https' ? { insecureSkipVerify: false } : undefined);
    return { kind: 'tcp', host: parsed.hostname.replace(/^\[|\]$/g, ''), port, ...(useTls ? { tls: useTls } : {}) };
  }
  throw new PluginSpecError(`plugin spec ${file}: unsupported scheme "${scheme}" in "${url}"; use unix://, tcp://, http:// or https://`);
}

function jsonSpecAddress(file: string): PluginAddress {
  let spec: unknown;
  try {
    spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PluginSpecError(`plugin spec ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const { Addr: addr, TLSConfig: tlsConfig } = (spec ?? {}) as { Addr?: unknown; TLSConfig?: Record<string, unknown> | null };
  if (typeof addr !== 'string' || addr === '') throw new PluginSpecError(`plugin spec ${file} has no "Addr" string (e.g. "Addr": "https://host:port")`);
  let tls: PluginTls | undefined;
  if (tlsConfig && typeof tlsConfig === 'object') {
    const text = (key: string): string | undefined => (typeof tlsConfig[key] === 'string' && tlsConfig[key] !== '' ? (tlsConfig[key] as string) : undefined);
    const caFile = text('CAFile');
    const certFile = text('CertFile');
    const keyFile = text('KeyFile');
    // Docker's rule: without a CA file the server's certificate is not verified.
    tls = { insecureSkipVerify: tlsConfig['InsecureSkipVerify'] === true || caFile === undefined, ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) };
  }
  return specAddress(file, addr, tls);
}

/** How an address reads in messages. */
export function describeAddress(address: PluginAddress): string {
  return address.kind === 'unix' ? `unix://${address.socketPath}` : `${address.tls ? 'https' : 'tcp'}://${address.host}:${address.port}`;
}
