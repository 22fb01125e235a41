// Docker's default address pools, so networks get the subnets Docker users expect, and the
// `--default-address-pool base=CIDR,size=N` option that replaces them.
import { parsePrefix, type Prefix, subdivide } from '../ip/address';
import { InvalidRequestError } from './errors';

export interface PoolTemplate {
  /** The range pools are cut from, e.g. 172.17.0.0/16. */
  base: Prefix;
  /** Length of each pool cut from it, e.g. 16. */
  size: number;
}

const template = (base: string, size: number): PoolTemplate => ({ base: parsePrefix(base), size });

/** Local scope: 15 × /16 from 172.17–172.31, then 16 × /20 from 192.168.0.0/16: 31 networks. */
export const LOCAL_DEFAULT_POOLS: readonly PoolTemplate[] = [
  template('172.17.0.0/16', 16),
  template('172.18.0.0/16', 16),
  template('172.19.0.0/16', 16),
  template('172.20.0.0/14', 16),
  template('172.24.0.0/14', 16),
  template('172.28.0.0/14', 16),
  template('192.168.0.0/16', 20),
];

/** Global scope (overlay): 10.0.0.0/8 cut into /24s. */
export const GLOBAL_DEFAULT_POOLS: readonly PoolTemplate[] = [template('10.0.0.0/8', 24)];

/** Parses one `--default-address-pool` value: "base=10.10.0.0/16,size=24". */
export function parseDefaultAddressPool(text: string): PoolTemplate {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const [key, value, extra] = part.split('=');
    if (!key || value === undefined || extra !== undefined || fields.has(key.trim())) {
      throw new InvalidRequestError(`invalid default address pool "${text}": use base=CIDR,size=N, e.g. base=10.10.0.0/16,size=24`);
    }
    fields.set(key.trim(), value.trim());
  }
  const unknown = [...fields.keys()].filter((k) => k !== 'base' && k !== 'size');
  if (unknown.length > 0 || !fields.has('base') || !fields.has('size')) {
    throw new InvalidRequestError(`invalid default address pool "${text}": it needs exactly base=CIDR and size=N`);
  }
  let base: Prefix;
  try {
    base = parsePrefix(fields.get('base')!);
  } catch (error) {
    throw new InvalidRequestError(`invalid default address pool "${text}": ${(error as Error).message}`);
  }
  const size = Number(fields.get('size'));
  const max = base.version === 4 ? 32 : 128;
  if (!Number.isInteger(size) || size < base.length || size > max) {
    throw new InvalidRequestError(`invalid default address pool "${text}": size must be a prefix length from ${base.length} (the base's) to ${max}`);
  }
  return { base, size };
}

/**
 * Parses every `--default-address-pool` value given (the option is repeatable); together they
 * replace Docker's defaults, in the order given.
 */
export function parseDefaultAddressPools(values: readonly string[]): PoolTemplate[] {
  return values.map(parseDefaultAddressPool);
}

/** Every candidate pool of the templates, in order. */
export function* candidatePools(templates: readonly PoolTemplate[], version: 4 | 6): Generator<Prefix> {
  for (const t of templates) if (t.base.version === version) yield* subdivide(t.base, t.size);
}
