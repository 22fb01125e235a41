// Named network namespaces and sockets inside them, with typed errors. Namespaces are bind
// mounts of nsfs files (the scheme `ip netns` uses), so `nsenter --net=PATH` and `ip netns`
// (when the directory is /run/netns) see the same objects netctl does.
import fs from 'node:fs';
import path from 'node:path';
import { native } from './addon';

/** Linux interface and namespace names share no limit, but a file name must be sane and not escape the dir. */
const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

export type NamespaceOperation = 'create' | 'delete' | 'socket' | 'prepare' | 'inspect';

const DOING: Record<NamespaceOperation, string> = {
  create: 'creating network namespace',
  delete: 'deleting network namespace',
  socket: 'opening a socket in network namespace',
  prepare: 'preparing namespace directory',
  inspect: 'inspecting network namespace',
};

/** A namespace syscall failed; `code` is the errno name (ENOENT, EEXIST, EPERM...). */
export class NamespaceError extends Error {
  override readonly name = 'NamespaceError';
  constructor(
    readonly code: string,
    readonly operation: NamespaceOperation,
    readonly nsPath: string,
    detail: string,
  ) {
    super(`${code} ${DOING[operation]} "${nsPath}": ${detail}`);
  }
}

function wrap<T>(operation: NamespaceOperation, nsPath: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (typeof err.code !== 'string') throw error;
    throw new NamespaceError(err.code, operation, nsPath, err.message);
  }
}

const preparedDirs = new Set<string>();

/**
 * Creates a network namespace named `name` under `dir` (made and turned into a shared mount
 * point on first use) and returns its path. The new namespace has only a down loopback.
 */
export function createNamespace(dir: string, name: string): string {
  if (!NAMESPACE_NAME.test(name)) {
    throw new NamespaceError('EINVAL', 'create', path.join(dir, name), `"${name}" is not a valid namespace name: use letters, digits, '_', '.', '-', starting with a letter or digit`);
  }
  const nsPath = path.join(dir, name);
  if (!preparedDirs.has(dir)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    wrap('prepare', dir, () => native().prepareNetnsDir(dir));
    preparedDirs.add(dir);
  }
  wrap('create', nsPath, () => native().createNetns(nsPath));
  return nsPath;
}

/** Removes the name of a namespace; it lives on while a process or socket still holds it. */
export function deleteNamespace(nsPath: string): void {
  wrap('delete', nsPath, () => native().deleteNetns(nsPath));
}

/** The namespace's identity (its nsfs inode), the same through every path that names it. */
export function namespaceInode(nsPath: string): number {
  return wrap('inspect', nsPath, () => native().netnsInode(nsPath));
}

/** True when both paths name the same namespace (same nsfs inode). */
export function sameNamespace(a: string, b: string): boolean {
  return native().netnsInode(a) === native().netnsInode(b);
}

/** The path of the calling thread's own network namespace. */
export function currentNamespacePath(): string {
  return native().currentNetnsPath();
}

export type SocketKind = 'udp4' | 'udp6' | 'tcp4' | 'tcp6';

/**
 * A bound socket made inside another namespace, as a descriptor for Node to adopt:
 * `dgram.createSocket('udp4').bind({ fd })` or `net.createServer().listen({ fd })`.
 */
export function socketInNamespace(nsPath: string, kind: SocketKind, address: string, port: number): number {
  return wrap('socket', nsPath, () => native().socketInNetns(nsPath, kind, address, port));
}
