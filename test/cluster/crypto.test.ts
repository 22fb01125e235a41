// AES-256-GCM packets and the key ring: tampering is detected, any key of the ring decrypts,
// and rotation refuses to remove the key in use.
import test from 'ava';
import crypto from 'node:crypto';
import { decrypt, DropCounters, encrypt, ENCRYPTION_OVERHEAD } from '../../src/cluster/crypto';
import { Keyring, KeyringError } from '../../src/cluster/keyring';

const key = (): Buffer => crypto.randomBytes(32);

test('a sealed packet opens with the key ring and costs a fixed overhead', (t) => {
  const ring = new Keyring(key());
  const sealed = encrypt(ring.primaryKey, Buffer.from('hello'));
  t.is(sealed.length, 5 + ENCRYPTION_OVERHEAD);
  t.deepEqual(decrypt(ring, sealed), { ok: true, plaintext: Buffer.from('hello') });
  // A fresh nonce each time: the same plaintext never gives the same bytes.
  t.notDeepEqual(encrypt(ring.primaryKey, Buffer.from('hello')), sealed);
});

test('flipping any bit of a sealed packet is detected', (t) => {
  const ring = new Keyring(key());
  const sealed = encrypt(ring.primaryKey, Buffer.from('some gossip'));
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const tampered = Buffer.from(sealed);
    tampered[bit >> 3] ^= 1 << (bit & 7);
    t.false(decrypt(ring, tampered).ok, `bit ${bit}`);
  }
});

test('a packet under a key the ring lacks fails authentication; short or unversioned ones are malformed', (t) => {
  const ring = new Keyring(key());
  t.deepEqual(decrypt(ring, encrypt(key(), Buffer.from('x'))), { ok: false, reason: 'auth' });
  t.deepEqual(decrypt(ring, Buffer.alloc(10)), { ok: false, reason: 'malformed' });
  t.deepEqual(decrypt(ring, Buffer.alloc(64)), { ok: false, reason: 'malformed' });
});

test('rotation: add a key, use it, remove the old one; packets of either key open in between', (t) => {
  const oldKey = key();
  const newKey = key();
  const ring = new Keyring(oldKey);
  const underOld = encrypt(oldKey, Buffer.from('old'));
  ring.addKey(newKey);
  t.true(ring.primaryKey.equals(oldKey));
  ring.useKey(newKey);
  t.true(ring.primaryKey.equals(newKey));
  t.true(decrypt(ring, underOld).ok);
  t.true(decrypt(ring, encrypt(newKey, Buffer.from('new'))).ok);
  ring.removeKey(oldKey);
  t.is(ring.keys.length, 1);
  t.false(decrypt(ring, underOld).ok);
});

test('the key ring refuses what would break it, saying what to do', (t) => {
  const primary = key();
  const ring = new Keyring(primary);
  t.throws(() => ring.removeKey(primary), { instanceOf: KeyringError, message: /primary.*useKey/ });
  t.throws(() => ring.useKey(key()), { instanceOf: KeyringError, message: /add it first/ });
  t.throws(() => ring.addKey(Buffer.alloc(16)), { instanceOf: KeyringError, message: /32 bytes/ });
  t.throws(() => new Keyring(Buffer.alloc(31)), { instanceOf: KeyringError });
  ring.addKey(primary);
  t.is(ring.keys.length, 1);
  // A caller mutating the key it passed in does not change the ring.
  const mutable = key();
  ring.addKey(mutable);
  mutable.fill(0);
  t.false(ring.keys[1]!.equals(mutable));
});

test('drop counters count by reason', (t) => {
  const drops = new DropCounters();
  drops.count('auth');
  drops.count('auth');
  drops.count('oversized');
  t.deepEqual(drops.snapshot(), { auth: 2, malformed: 0, oversized: 1 });
});
