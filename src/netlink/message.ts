// Netlink message framing (struct nlmsghdr) and the error/ack message (struct nlmsgerr).
import { parseAttributes, readString } from './attributes';
import { NLM_F, NLMSG_HDRLEN, NLMSGERR_ATTR } from './constants';

export interface MessageHeader {
  type: number;
  flags: number;
  seq: number;
  portId: number;
}

export interface Message extends MessageHeader {
  /** The bytes after the header. */
  payload: Buffer;
}

/** One message, padded to NLMSG_ALIGNTO so messages can be concatenated into one datagram. */
export function encodeMessage(header: MessageHeader, payload: Buffer): Buffer {
  const length = NLMSG_HDRLEN + payload.length;
  const out = Buffer.alloc((length + 3) & ~3);
  // nlmsg_len counts the message without its trailing padding.
  out.writeUInt32LE(length, 0);
  out.writeUInt16LE(header.type, 4);
  out.writeUInt16LE(header.flags, 6);
  out.writeUInt32LE(header.seq >>> 0, 8);
  out.writeUInt32LE(header.portId >>> 0, 12);
  payload.copy(out, NLMSG_HDRLEN);
  return out;
}

/** Splits one datagram into its messages; a truncated tail is dropped, never read past. */
export function decodeMessages(datagram: Buffer): Message[] {
  const messages: Message[] = [];
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= datagram.length) {
    const length = datagram.readUInt32LE(offset);
    if (length < NLMSG_HDRLEN || offset + length > datagram.length) break;
    messages.push({
      type: datagram.readUInt16LE(offset + 4),
      flags: datagram.readUInt16LE(offset + 6),
      seq: datagram.readUInt32LE(offset + 8),
      portId: datagram.readUInt32LE(offset + 12),
      payload: datagram.subarray(offset + NLMSG_HDRLEN, offset + length),
    });
    offset += (length + 3) & ~3;
  }
  return messages;
}

export interface ErrorPayload {
  /** 0 for an ack, else a positive errno. */
  errno: number;
  /** The kernel's own explanation (extended ack), when it gave one. */
  kernelMessage?: string;
}

/** Decodes NLMSG_ERROR: int error, the request's header (and body unless capped), then TLVs. */
export function decodeError(message: Message): ErrorPayload {
  const { payload, flags } = message;
  // `0 - x` rather than `-x`: an ack must read as 0, not -0.
  const errno = payload.length >= 4 ? 0 - payload.readInt32LE(0) : 0;
  let kernelMessage: string | undefined;
  if (flags & NLM_F.ACK_TLVS && payload.length >= 4 + NLMSG_HDRLEN) {
    const echoed = flags & NLM_F.CAPPED ? NLMSG_HDRLEN : payload.readUInt32LE(4);
    kernelMessage = readString(parseAttributes(payload, 4 + ((echoed + 3) & ~3)).get(NLMSGERR_ATTR.MSG));
  }
  return kernelMessage ? { errno, kernelMessage } : { errno };
}

/** Decodes NLMSG_DONE: int error, then extended-ack TLVs directly (no echoed request). */
export function decodeDone(message: Message): ErrorPayload {
  const { payload, flags } = message;
  const errno = payload.length >= 4 ? 0 - payload.readInt32LE(0) : 0;
  const kernelMessage = flags & NLM_F.ACK_TLVS ? readString(parseAttributes(payload, 4).get(NLMSGERR_ATTR.MSG)) : undefined;
  return kernelMessage ? { errno, kernelMessage } : { errno };
}

/** Encodes an NLMSG_ERROR payload; the kernel's side, used by tests to check decodeError. */
export function encodeError(errno: number, request: MessageHeader, kernelMessage?: string): { flags: number; payload: Buffer } {
  const head = Buffer.alloc(4 + NLMSG_HDRLEN);
  head.writeInt32LE(-errno, 0);
  encodeMessage(request, Buffer.alloc(0)).copy(head, 4);
  if (!kernelMessage) return { flags: NLM_F.CAPPED, payload: head };
  const tlv = Buffer.alloc(4 + ((kernelMessage.length + 1 + 3) & ~3));
  tlv.writeUInt16LE(4 + kernelMessage.length + 1, 0);
  tlv.writeUInt16LE(NLMSGERR_ATTR.MSG, 2);
  tlv.write(kernelMessage, 4, 'utf8');
  return { flags: NLM_F.CAPPED | NLM_F.ACK_TLVS, payload: Buffer.concat([head, tlv]) };
}
