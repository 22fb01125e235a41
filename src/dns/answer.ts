// What the embedded DNS does with one query from a sandbox: answer it from the names in the
// sandbox's scope, refuse it as malformed, or hand it on to the upstream resolvers. Pure: bytes
// in, a decision out. The wire format is dns2's.
import DNS from 'dns2';
import { bytesToIp } from '../ip/address';
import { encodeAnswer, encodeName, questionEnd, type RecordData } from './encode';
import type { NameTable } from './names';

const { Packet } = DNS;

/** Docker answers its embedded names with a TTL of 600 s. */
export const TTL = 600;

export type Decision =
  /** Answered here: send these bytes back. */
  | { reply: Buffer }
  /** Not a name of the sandbox's networks: ask the upstream resolvers. */
  | { forward: true }
  /** Not worth an answer (too short to carry an ID, or itself a response). */
  | { drop: true };

const HEADER_BYTES = 12;

/** FORMERR for a message dns2 could not read at all: the ID and opcode come from the raw header. */
function formErrorFromRaw(message: Buffer): Buffer {
  const reply = Buffer.alloc(HEADER_BYTES);
  message.copy(reply, 0, 0, 2);
  reply[2] = 0x80 | (message[2]! & 0x78);
  reply[3] = Packet.RCODE.FORMERR;
  return reply;
}

/** The address a reverse name stands for, in canonical text form; undefined if it names none. */
export function reverseAddress(name: string): string | undefined {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.slice(-2).join('.') === 'in-addr.arpa' && labels.length === 6) {
    const octets = labels.slice(0, 4).reverse();
    if (!octets.every((o) => /^(0|[1-9]\d{0,2})$/.test(o) && Number(o) < 256)) return undefined;
    return octets.join('.');
  }
  if (labels.slice(-2).join('.') === 'ip6.arpa' && labels.length === 34) {
    const nibbles = labels.slice(0, 32).reverse();
    if (!nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    return bytesToIp(Buffer.from(nibbles.join(''), 'hex'));
  }
  return undefined;
}

/** The most a UDP reply may carry: 512 bytes, or what the client's EDNS OPT record offers. */
function udpLimit(request: InstanceType<typeof Packet>): number {
  const opt = request.additionals.find((r) => r.type === Packet.TYPE.EDNS);
  return opt ? Math.max(512, Math.min(opt.class, 65535)) : 512;
}

export function decide(message: Buffer, names: NameTable, networkIds: readonly string[], transport: 'udp' | 'tcp' = 'udp'): Decision {
  if (message.length < HEADER_BYTES) return { drop: true };
  if ((message[2]! & 0x80) !== 0) return { drop: true };
  let request: InstanceType<typeof Packet>;
  try {
    request = Packet.parse(message);
  } catch {
    return { reply: formErrorFromRaw(message) };
  }
  if (request.errors.length > 0 || request.questions.length !== 1) return { reply: Packet.createErrorResponseFromRequest(request, Packet.RCODE.FORMERR).toBuffer() };
  if (request.header.opcode !== 0) return { reply: Packet.createErrorResponseFromRequest(request, Packet.RCODE.NOTIMP).toBuffer() };
  const question = request.questions[0]!;
  if (question.class !== Packet.CLASS.IN) return { forward: true };

  // A client that speaks EDNS gets an OPT back (RFC 6891 §6.1.1), stating what this server takes.
  const edns = request.additionals.some((r) => r.type === Packet.TYPE.EDNS);
  const end = questionEnd(message);
  const limit = transport === 'tcp' ? 65535 : udpLimit(request);
  // The only question comes right after the header, so its name cannot point back at anything:
  // a name that is not plain labels is malformed.
  const answer = (records: RecordData[]): Decision =>
    end !== undefined ? { reply: encodeAnswer(message, end, records, TTL, edns, limit) } : { reply: Packet.createErrorResponseFromRequest(request, Packet.RCODE.FORMERR).toBuffer() };

  if (question.type === Packet.TYPE.A || question.type === Packet.TYPE.AAAA) {
    const family = question.type === Packet.TYPE.A ? 'A' : 'AAAA';
    const found = names.lookup(question.name, networkIds, family);
    // A known name asked for the other family: NOERROR with no answer, never forwarded.
    return found.known ? answer(found.addresses.map((address) => ({ type: question.type, address }))) : { forward: true };
  }
  if (question.type === Packet.TYPE.PTR) {
    const address = reverseAddress(question.name);
    // A name DNS cannot carry (a label over 63 bytes, from a store older than the name checks) is
    // left out: an address with none left is one without names here, so the question goes upstream.
    const domains = (address ? names.reverse(address, networkIds) : []).filter((domain) => encodeName(domain) !== undefined);
    return domains.length > 0 ? answer(domains.map((domain) => ({ type: Packet.TYPE.PTR, domain }))) : { forward: true };
  }
  // Any other type for one of our names: it exists, with no records of that type.
  return names.lookup(question.name, networkIds, 'A').known ? answer([]) : { forward: true };
}
