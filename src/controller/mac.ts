// The MAC an endpoint gets when neither its request nor its driver names one. Pure but for the
// random bytes of an endpoint without IPv4.
import crypto from 'node:crypto';
import { addressOf } from '../ip/address';

/** Docker's bridge MACs: 02:42 and the IPv4 address, so a reused address keeps its MAC in neighbours' caches. */
export function macFor(ipv4: string | undefined): string {
  const bytes = ipv4 ? addressOf(ipv4).split('.').map(Number) : [...crypto.randomBytes(4)];
  return ['02', '42', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
