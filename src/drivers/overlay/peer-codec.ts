// The value an overlay endpoint publishes in its network's "endpoint_table": what other hosts
// need to reach it (its addresses, its MAC, the VTEP it sits behind) and to name it (DNS).
import net from 'node:net';

export const ENDPOINT_TABLE = 'endpoint_table';

export interface EndpointRecord {
  endpointId: string;
  name: string;
  aliases: string[];
  /** CIDR form, as the endpoint has them ("10.0.0.2/24"). */
  ipv4?: string;
  ipv6?: string;
  mac: string;
  /** The underlay address of the host the endpoint is on. */
  vtep: string;
}

export class EndpointRecordError extends Error {
  override readonly name = 'EndpointRecordError';
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function encodeEndpointRecord(record: EndpointRecord): Buffer {
  return Buffer.from(JSON.stringify(checkRecord(record)));
}

/** Throws EndpointRecordError for a value that is not a well-formed record (another version, garbage). */
export function decodeEndpointRecord(value: Buffer): EndpointRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    throw new EndpointRecordError('endpoint record is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new EndpointRecordError('endpoint record is not an object');
  const raw = parsed as Record<string, unknown>;
  const record: EndpointRecord = {
    endpointId: raw['endpointId'] as string,
    name: raw['name'] as string,
    aliases: raw['aliases'] as string[],
    mac: raw['mac'] as string,
    vtep: raw['vtep'] as string,
  };
  if (raw['ipv4'] !== undefined) record.ipv4 = raw['ipv4'] as string;
  if (raw['ipv6'] !== undefined) record.ipv6 = raw['ipv6'] as string;
  return checkRecord(record);
}

function checkRecord(record: EndpointRecord): EndpointRecord {
  const fail = (what: string): never => {
    throw new EndpointRecordError(`endpoint record ${what}`);
  };
  if (typeof record.endpointId !== 'string' || record.endpointId === '') fail('has no endpointId');
  if (typeof record.name !== 'string') fail('has no name');
  if (!Array.isArray(record.aliases) || !record.aliases.every((a) => typeof a === 'string')) fail('aliases is not a list of names');
  if (typeof record.mac !== 'string' || !MAC.test(record.mac)) fail(`mac "${String(record.mac)}" is not a lower-case MAC address`);
  if (typeof record.vtep !== 'string' || net.isIP(record.vtep) === 0) fail(`vtep "${String(record.vtep)}" is not an IP address`);
  if (record.ipv4 !== undefined && !isCidr(record.ipv4, 4)) fail(`ipv4 "${String(record.ipv4)}" is not an IPv4 CIDR`);
  if (record.ipv6 !== undefined && !isCidr(record.ipv6, 6)) fail(`ipv6 "${String(record.ipv6)}" is not an IPv6 CIDR`);
  if (record.ipv4 === undefined && record.ipv6 === undefined) fail('has no address');
  return record;
}

function isCidr(value: unknown, family: 4 | 6): boolean {
  if (typeof value !== 'string') return false;
  const [ip, prefix, extra] = value.split('/');
  const length = Number(prefix);
  return extra === undefined && net.isIP(ip ?? '') === family && /^\d+$/.test(prefix ?? '') && length <= (family === 4 ? 32 : 128);
}

/** The bare address of a CIDR ("10.0.0.2/24" → "10.0.0.2"). */
export const addressOf = (cidr: string): string => cidr.split('/')[0]!;
