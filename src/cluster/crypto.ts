// AES-256-GCM for gossip packets and push-pull streams: [version][12-byte nonce][ciphertext][tag].
// The version byte is authenticated too, so a later format cannot be confused with this one.
import crypto from 'node:crypto';
import type { Keyring } from './keyring';

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes encryption adds to a message; packet budgets subtract it. */
export const ENCRYPTION_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

export function encrypt(key: Buffer, plaintext: Buffer): Buffer {
  const nonce = crypto.randomBytes(NONCE_BYTES);
  const header = Buffer.of(VERSION);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, nonce, body, cipher.getAuthTag()]);
}

export type DecryptResult = { ok: true; plaintext: Buffer } | { ok: false; reason: 'malformed' | 'auth' };

/** Tries every key of the ring; never throws. */
export function decrypt(keyring: Keyring, sealed: Buffer): DecryptResult {
  if (sealed.length < ENCRYPTION_OVERHEAD || sealed[0] !== VERSION) return { ok: false, reason: 'malformed' };
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  for (const key of keyring.keys) {
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(sealed.subarray(0, 1));
      decipher.setAuthTag(tag);
      return { ok: true, plaintext: Buffer.concat([decipher.update(body), decipher.final()]) };
    } catch {
      // Wrong key or tampered bytes: try the next key.
    }
  }
  return { ok: false, reason: 'auth' };
}

export type DropReason = 'auth' | 'malformed' | 'oversized';

/** Packets and streams refused, by reason: a wrong key or an attacker shows here, not as a crash. */
export class DropCounters {
  private readonly counts: Record<DropReason, number> = { auth: 0, malformed: 0, oversized: 0 };

  count(reason: DropReason): void {
    this.counts[reason]++;
  }

  get(reason: DropReason): number {
    return this.counts[reason];
  }

  snapshot(): Record<DropReason, number> {
    return { ...this.counts };
  }
}
