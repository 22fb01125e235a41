// The engine ID `docker info` shows: made once, kept in <root>/engine-id, in Docker's format
// (twelve groups of four base32 characters).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const FORMAT = /^[A-Z2-7]{4}(?::[A-Z2-7]{4}){11}$/;

export function engineId(root: string): string {
  const file = path.join(root, 'engine-id');
  try {
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (FORMAT.test(kept)) return kept;
  } catch {
    // Made below.
  }
  const chars = [...crypto.randomBytes(48)].map((byte) => ALPHABET[byte % 32]).join('');
  const id = chars.match(/.{4}/g)!.join(':');
  fs.writeFileSync(`${file}.tmp`, `${id}\n`);
  fs.renameSync(`${file}.tmp`, file);
  return id;
}
