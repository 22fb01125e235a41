// The number an embedding engine's controller derives its marks from (see ownershipOf), kept in
// its own store so the marks survive its restarts.
import crypto from 'node:crypto';
import { CasConflictError } from '../store/errors';
import type { Store } from '../store/types';

const IDENTITY_KEY = 'controller/identity';

export async function controllerIdentity(store: Store): Promise<number> {
  const stored = await store.get(IDENTITY_KEY);
  if (stored) return (JSON.parse(stored.value.toString('utf8')) as { identity: number }).identity;
  const identity = crypto.randomBytes(2).readUInt16BE(0);
  try {
    await store.put(IDENTITY_KEY, Buffer.from(JSON.stringify({ identity })), 0);
    return identity;
  } catch (error) {
    // Another process opened the same store at the same moment: its number stands.
    if (error instanceof CasConflictError) return controllerIdentity(store);
    throw error;
  }
}
