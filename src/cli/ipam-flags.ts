// `--subnet`, `--gateway`, `--ip-range` and `--aux-address` of `network create`, paired into IPAM
// configs the way Docker's CLI pairs them: each gateway, range and aux address goes with the one
// subnet that contains it.
import { InvalidAddressError, ipToBigInt, parsePrefix, type Prefix, prefixContains, prefixesOverlap, prefixWithin } from '../ip/address';
import { UsageError } from './args';

export interface IpamConfigJson {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

function prefix(text: string, what: string): Prefix {
  try {
    return parsePrefix(text, what !== 'subnet');
  } catch (error) {
    if (error instanceof InvalidAddressError) throw new UsageError(`invalid ${what} ${text}: ${error.message}`);
    throw error;
  }
}

function address(text: string, what: string): { version: 4 | 6; value: bigint } {
  try {
    return ipToBigInt(text);
  } catch {
    throw new UsageError(`invalid ${what} ${text}: not an IP address`);
  }
}

export function ipamConfigs(subnets: string[], gateways: string[], ranges: string[], auxAddresses: string[]): IpamConfigJson[] {
  if (subnets.length === 0 && (gateways.length > 0 || ranges.length > 0 || auxAddresses.length > 0)) {
    throw new UsageError('every ip-range or gateway must have a corresponding subnet');
  }
  const parsed = subnets.map((s) => ({ text: s, prefix: prefix(s, 'subnet') }));
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      if (prefixesOverlap(parsed[i]!.prefix, parsed[j]!.prefix)) throw new UsageError('multiple overlapping subnet configuration is not supported');
    }
  }
  const configs: IpamConfigJson[] = parsed.map((s) => ({ Subnet: s.text }));
  const owner = (matches: (p: Prefix) => boolean, what: string, value: string): IpamConfigJson => {
    const index = parsed.findIndex((s) => matches(s.prefix));
    if (index === -1) throw new UsageError(`no matching subnet for ${what} ${value}`);
    return configs[index]!;
  };
  for (const range of ranges) {
    const r = prefix(range, 'ip-range');
    const config = owner((p) => prefixWithin(r, p), 'range', range);
    if (config.IPRange !== undefined) throw new UsageError(`cannot configure multiple ranges (${config.IPRange}, ${range}) on the same subnet (${config.Subnet})`);
    config.IPRange = range;
  }
  for (const gateway of gateways) {
    const g = address(gateway, 'gateway');
    const config = owner((p) => prefixContains(p, g.version, g.value), 'gateway', gateway);
    if (config.Gateway !== undefined) throw new UsageError(`cannot configure multiple gateways (${config.Gateway}, ${gateway}) for the same subnet (${config.Subnet})`);
    config.Gateway = gateway;
  }
  for (const aux of auxAddresses) {
    const eq = aux.indexOf('=');
    if (eq < 1) throw new UsageError(`invalid aux-address "${aux}": use NAME=IP`);
    const ip = aux.slice(eq + 1);
    const a = address(ip, 'aux-address');
    const config = owner((p) => prefixContains(p, a.version, a.value), 'aux-address', ip);
    config.AuxiliaryAddresses = { ...config.AuxiliaryAddresses, [aux.slice(0, eq)]: ip };
  }
  return configs;
}
