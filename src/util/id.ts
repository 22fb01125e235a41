// IDs as Docker makes them: 32 random bytes in hex. Drawn from a pool refilled 64 IDs at a time,
// as asking the random source per ID showed in attach profiles.
import crypto from 'node:crypto';

const ID_BYTES = 32;
const pool = Buffer.alloc(ID_BYTES * 64);
let offset = pool.length;

export function newId(): string {
  if (offset === pool.length) {
    crypto.randomFillSync(pool);
    offset = 0;
  }
  offset += ID_BYTES;
  return pool.toString('hex', offset - ID_BYTES, offset);
}
