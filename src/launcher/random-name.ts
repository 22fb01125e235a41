// Docker's names for unnamed containers: adjective_surname (a famous scientist or engineer).
// Our own word lists; like Docker, a taken name is drawn again with a digit, then the short ID is used.
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'agile', 'amber', 'bold', 'brave', 'bright', 'calm', 'candid', 'clever', 'cosmic', 'crisp',
  'curious', 'daring', 'deft', 'eager', 'earnest', 'fearless', 'fluent', 'gentle', 'glad', 'golden',
  'humble', 'keen', 'kind', 'lively', 'lucid', 'merry', 'mighty', 'nimble', 'noble', 'patient',
  'placid', 'proud', 'quick', 'quiet', 'radiant', 'rapid', 'serene', 'sharp', 'silent', 'steady',
  'sunny', 'swift', 'tender', 'tidy', 'upbeat', 'vivid', 'warm', 'wise', 'witty', 'zesty',
];

const SURNAMES = [
  'agnesi', 'ampere', 'babbage', 'bohr', 'boole', 'cantor', 'carnot', 'curie', 'dijkstra', 'euler',
  'faraday', 'fermat', 'fermi', 'feynman', 'fourier', 'galois', 'gauss', 'hamming', 'hilbert', 'hopper',
  'huffman', 'hypatia', 'jacobi', 'joule', 'kepler', 'knuth', 'lamarr', 'laplace', 'leibniz', 'lovelace',
  'maxwell', 'meitner', 'mendel', 'noether', 'ohm', 'pascal', 'pauli', 'planck', 'ramanujan', 'riemann',
  'ritchie', 'shannon', 'tesla', 'thompson', 'turing', 'volta', 'wiles', 'yalow', 'zuse', 'kovalevskaya',
];

/** Docker's attempts: one plain name, then five with a digit; past them, the caller's fallback. */
const ATTEMPTS = 6;

/** One adjective_surname name; `suffix` (Docker's retry digit) is appended when given. */
export function randomName(suffix?: number, pick: (n: number) => number = randomInt): string {
  const name = `${ADJECTIVES[pick(ADJECTIVES.length)]}_${SURNAMES[pick(SURNAMES.length)]}`;
  return suffix === undefined ? name : `${name}${suffix}`;
}

/** A random name not `taken`: a plain one first, then with a digit 0-9; `fallback` if all are taken. */
export function freeRandomName(taken: (name: string) => boolean, fallback: string, pick: (n: number) => number = randomInt): string {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const name = randomName(attempt === 0 ? undefined : pick(10), pick);
    if (!taken(name)) return name;
  }
  return fallback;
}
