// The shared keys of a cluster: one primary that encrypts, all of them tried to decrypt, so keys
// rotate at runtime (add the new key everywhere, make it primary, remove the old) with no member
// unable to read another in between.

export const KEY_BYTES = 32;

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

function checkKey(key: Buffer): Buffer {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new KeyringError(`a cluster key must be ${KEY_BYTES} bytes (AES-256), got ${Buffer.isBuffer(key) ? key.length : typeof key}; generate one with crypto.randomBytes(32)`);
  }
  return Buffer.from(key);
}

export class Keyring {
  /** Primary first, then the others in the order they were added. */
  private ring: Buffer[];

  /** `primary` encrypts; `others` are only tried for decryption. */
  constructor(primary: Buffer, others: Buffer[] = []) {
    this.ring = [checkKey(primary)];
    for (const key of others) this.addKey(key);
  }

  get primaryKey(): Buffer {
    return this.ring[0]!;
  }

  /** Every key, primary first: the order decryption tries them. */
  get keys(): readonly Buffer[] {
    return this.ring;
  }

  /** Adds a key for decryption; adding one already there does nothing. */
  addKey(key: Buffer): void {
    const checked = checkKey(key);
    if (!this.has(checked)) this.ring.push(checked);
  }

  /** Makes a key already in the ring the primary. */
  useKey(key: Buffer): void {
    const index = this.indexOf(checkKey(key));
    if (index < 0) throw new KeyringError('cannot use a key that is not in the key ring: add it first (on every member), then use it');
    const [chosen] = this.ring.splice(index, 1);
    this.ring.unshift(chosen!);
  }

  /** Removes a non-primary key; removing one not there does nothing. */
  removeKey(key: Buffer): void {
    const index = this.indexOf(checkKey(key));
    if (index === 0) throw new KeyringError('cannot remove the primary key: make another key primary with useKey first');
    if (index > 0) this.ring.splice(index, 1);
  }

  private has(key: Buffer): boolean {
    return this.indexOf(key) >= 0;
  }

  private indexOf(key: Buffer): number {
    return this.ring.findIndex((k) => k.equals(key));
  }
}
