// External sandbox keys (libnetwork's "external key"): a network namespace an engine made and
// owns, given as a path (/run/netns/NAME, /proc/PID/ns/net) or as an open descriptor. netctl
// works inside it and never removes it, nor holds it with a mount of its own. The record keeps a
// path and the namespace's inode: a path that later names no namespace, or another one (its
// process died and the PID was reused), means the namespace is gone.
import fs from 'node:fs';
import path from 'node:path';
import { currentNamespacePath, namespaceInode } from '../native/netns';
import { InvalidParameterError } from './errors';

/** A namespace path, or an open descriptor of one (netctl keeps a duplicate while the sandbox lives). */
export type ExternalKey = string | number;

export interface HeldKey {
  /** Where netctl reaches the namespace: the path given, or its own descriptor's /proc path. */
  path: string;
  inode: number;
  /** Closes the descriptor netctl holds for a descriptor key; a path key holds nothing. */
  release(): void;
}

const USAGE = 'give a namespace path (/run/netns/NAME, /proc/PID/ns/net) or an open descriptor of one';

/** Checks an external key and holds it; the namespace's own kind is checked when it is adopted. */
export function holdExternalKey(key: ExternalKey, sandboxDir: string): HeldKey {
  const { path: nsPath, release } = typeof key === 'number' ? holdDescriptor(key) : checkedPath(key, sandboxDir);
  try {
    const inode = inodeAt(nsPath, key);
    if (inode === namespaceInode(currentNamespacePath())) {
      throw new InvalidParameterError(`sandbox key ${String(key)} is the network namespace netctl runs in: a sandbox needs a namespace of its own (use the host network to share this one)`);
    }
    return { path: nsPath, inode, release };
  } catch (error) {
    release();
    throw error;
  }
}

/** Whether `key` still names the namespace that had `inode` when it was adopted. */
export function stillNames(key: string, inode: number | undefined): boolean {
  try {
    return namespaceInode(key) === inode;
  } catch {
    return false;
  }
}

/** Why adopting failed, told as what to give instead (EINVAL from setns: not a network namespace). */
export function adoptionError(key: ExternalKey, error: unknown): unknown {
  if ((error as { code?: string }).code !== 'EINVAL') return error;
  return new InvalidParameterError(`sandbox key ${String(key)} is not a network namespace: ${USAGE}`);
}

function checkedPath(key: unknown, sandboxDir: string): { path: string; release(): void } {
  if (typeof key !== 'string' || !path.isAbsolute(key)) throw new InvalidParameterError(`invalid sandbox key ${JSON.stringify(key)}: ${USAGE}`);
  const nsPath = path.normalize(key);
  const relative = path.relative(sandboxDir, nsPath);
  // A namespace there with no sandbox of netctl's would be removed as an orphan at the next start.
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
    throw new InvalidParameterError(`sandbox key ${key} is inside netctl's own sandbox directory ${sandboxDir}: keep the namespaces you own elsewhere (e.g. /run/netns)`);
  }
  return { path: nsPath, release: () => undefined };
}

/** A duplicate of the caller's descriptor, so the caller may close its own. */
function holdDescriptor(fd: number): { path: string; release(): void } {
  if (!Number.isSafeInteger(fd) || fd < 0) throw new InvalidParameterError(`invalid sandbox key ${fd}: ${USAGE}`);
  let held: number;
  try {
    held = fs.openSync(`/proc/self/fd/${fd}`, 'r');
  } catch (error) {
    throw new InvalidParameterError(`sandbox key ${fd} is not an open descriptor (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${USAGE}`);
  }
  // By PID: helpers netctl starts (a shim entering the namespace) resolve it too.
  return { path: `/proc/${process.pid}/fd/${held}`, release: () => fs.closeSync(held) };
}

function inodeAt(nsPath: string, key: ExternalKey): number {
  try {
    return namespaceInode(nsPath);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
    throw new InvalidParameterError(`no network namespace at ${String(key)}: make it first (ip netns add NAME, unshare -n) or ${USAGE}`);
  }
}
