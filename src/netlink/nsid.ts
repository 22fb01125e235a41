// Namespace ids (RTM_NEWNSID, RTM_GETNSID): the number one namespace gives another. A request
// made in one namespace names a link of another (IFLA_LINK_NETNSID) by that number.
import { AttributeWriter, parseAttributes, readI32 } from './attributes';
import { NETNSA } from './constants';

/** The id the kernel reads as "none" (NETNSA_NSID_NOT_ASSIGNED), and as "pick one" in a request. */
const NOT_ASSIGNED = -1;

/** struct rtgenmsg (AF_UNSPEC, padded to four bytes), the other namespace's fd and, to assign, the id. */
export function encodeNsid(fd: number, assign: boolean): Buffer {
  const w = new AttributeWriter().u32(NETNSA.FD, fd);
  if (assign) w.i32(NETNSA.NSID, NOT_ASSIGNED);
  return Buffer.concat([Buffer.alloc(4), w.toBuffer()]);
}

/** The id in an RTM_NEWNSID message, or undefined when the namespace has none. */
export function decodeNsid(payload: Buffer): number | undefined {
  const id = readI32(parseAttributes(payload, 4).get(NETNSA.NSID));
  return id === undefined || id < 0 ? undefined : id;
}
