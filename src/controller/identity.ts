// The number an embedding engine's controller derives its marks from (see ownershipOf), kept in
// its own store so the marks survive its restarts.
import crypto from 'node:crypto';
import { CasConflictError } from '../store/errors';
import type { Store } from '../store/types';

const IDENTITY_KEY = 'controller/identity';

/** How many numbers are drawn, at most, before one whose marks nothing on the host carries yet. */
const DRAWS = 64;

/**
 * The controller's number: the one in its store, or else a new one whose marks `inUse` says
 * nothing carries yet (another engine's), kept there.
 */
export async function controllerIdentity(store: Store, inUse: (identity: number) => Promise<boolean> = async () => false): Promise<number> {
  const stored = await store.get(IDENTITY_KEY);
  if (stored) return (JSON.parse(stored.value.toString('utf8')) as { identity: number }).identity;
  let identity = crypto.randomBytes(2).readUInt16BE(0);
  for (let draw = 1; draw < DRAWS && (await inUse(identity)); draw++) identity = crypto.randomBytes(2).readUInt16BE(0);
  try {
    await store.put(IDENTITY_KEY, Buffer.from(JSON.stringify({ identity })), 0);
    return identity;
  } catch (error) {
    // Another process opened the same store at the same moment: its number stands.
    if (error instanceof CasConflictError) return controllerIdentity(store, inUse);
    throw error;
  }
}
