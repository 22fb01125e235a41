// Captures the kernel datagrams that test/netlink/codec.test.ts decodes without root.
//   npx tsc -p . && node dist/integration/netlink/capture-fixtures.js   (as root)
// Objects are made with iproute2, not with netctl's encoders, in a throwaway namespace; each
// decoded object is checked against `ip -j` before anything is written, so a fixture never
// records a decoder bug as the expected answer.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AttributeWriter } from '../../src/netlink/attributes';
import { AF, IFLA, IFLA_INFO, NLM_F, NLMSG, RTEXT_FILTER_SKIP_STATS, RTM } from '../../src/netlink/constants';
import { decodeAddress, encodeAddressDump } from '../../src/netlink/address';
import { decodeFdb, encodeFdbDump } from '../../src/netlink/fdb';
import { decodeLink, encodeIfinfo } from '../../src/netlink/link';
import { decodeDone, decodeError, decodeMessages, encodeMessage, type Message } from '../../src/netlink/message';
import { decodeNeighbour, encodeNeighbourDump } from '../../src/netlink/neighbour';
import { decodeRoute, encodeRouteDump } from '../../src/netlink/route';
import { native, type NativeNetlinkSocket } from '../../src/native/addon';

const name = `nctl-capture-${crypto.randomBytes(3).toString('hex')}`;
const nsPath = `/run/netns/${name}`;
const sh = (...args: string[]): string => execFileSync('nsenter', [`--net=${nsPath}`, ...args], { encoding: 'utf8' });
const json = <T>(...args: string[]): T => JSON.parse(sh(args[0]!, '-j', ...args.slice(1))) as T;

let seq = 1;
function exchange(socket: NativeNetlinkSocket, type: number, flags: number, payload: Buffer): Buffer[] {
  const mySeq = ++seq;
  socket.send(encodeMessage({ type, flags: flags | NLM_F.REQUEST, seq: mySeq, portId: 0 }, payload));
  const datagrams: Buffer[] = [];
  for (let guard = 0; guard < 1000; guard++) {
    const d = socket.tryReceive();
    if (!d) break;
    datagrams.push(d);
    if (decodeMessages(d).some((m) => m.seq === mySeq && (m.type === NLMSG.DONE || m.type === NLMSG.ERROR))) break;
  }
  return datagrams;
}

const dataMessages = (datagrams: Buffer[], type: number): Message[] => datagrams.flatMap(decodeMessages).filter((m) => m.type === type);
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function check(what: string, ok: boolean): void {
  if (!ok) throw new Error(`capture: decoded ${what} disagrees with iproute2; fixture not written`);
}

function main(): void {
  execFileSync('ip', ['netns', 'add', name]);
  try {
    sh('ip', 'link', 'add', 'br-fix', 'address', '02:42:0a:00:00:01', 'type', 'bridge', 'stp_state', '0', 'ageing_time', '15000');
    sh('ip', 'link', 'set', 'br-fix', 'alias', 'fixture bridge', 'up');
    sh('ip', 'link', 'add', 'veth-fix', 'address', '02:42:0a:00:00:02', 'type', 'veth', 'peer', 'name', 'peer-fix');
    sh('ip', 'link', 'set', 'veth-fix', 'master', 'br-fix');
    sh('ip', 'link', 'add', 'vx-fix', 'address', '02:42:0a:00:00:03', 'type', 'vxlan', 'id', '4097', 'local', '192.0.2.10', 'dstport', '4789', 'nolearning', 'proxy', 'l2miss', 'ttl', '64', 'udpcsum');
    sh('ip', 'link', 'add', 'link', 'br-fix', 'name', 'mv-fix', 'address', '02:42:0a:00:00:04', 'type', 'macvlan', 'mode', 'vepa');
    sh('ip', 'addr', 'add', '10.20.30.1/24', 'brd', '+', 'dev', 'br-fix');
    sh('ip', 'addr', 'add', 'fd00:20::1/64', 'dev', 'br-fix', 'nodad');
    sh('ip', 'route', 'add', '10.99.0.0/16', 'via', '10.20.30.254', 'metric', '50');
    sh('ip', 'route', 'add', 'default', 'via', '10.20.30.254');
    sh('ip', '-6', 'route', 'add', 'fd00:99::/48', 'via', 'fd00:20::fe', 'dev', 'br-fix');
    sh('ip', 'route', 'add', '10.98.0.0/24', 'dev', 'br-fix', 'table', '100', 'proto', 'static', 'src', '10.20.30.1');
    sh('ip', 'neigh', 'add', '10.20.30.7', 'lladdr', '02:42:0a:14:1e:07', 'dev', 'br-fix', 'nud', 'permanent');
    sh('ip', 'neigh', 'add', 'fd00:20::7', 'lladdr', '02:42:0a:14:1e:08', 'dev', 'br-fix', 'nud', 'permanent');
    sh('ip', 'neigh', 'add', 'proxy', '10.20.30.9', 'dev', 'br-fix');
    sh('bridge', 'fdb', 'append', '02:42:0a:00:00:99', 'dev', 'vx-fix', 'dst', '192.0.2.20', 'self', 'permanent');
    sh('bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx-fix', 'dst', '192.0.2.21', 'self', 'permanent');
    sh('bridge', 'fdb', 'add', '02:42:0a:00:00:98', 'dev', 'veth-fix', 'master', 'static');

    const socket = native().openNetlink(0, nsPath, 0);
    try {
      const skipStats = new AttributeWriter().u32(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS).toBuffer();
      const linkDump = exchange(socket, RTM.GETLINK, NLM_F.DUMP, Buffer.concat([encodeIfinfo(0), skipStats]));
      const links = dataMessages(linkDump, RTM.NEWLINK).map((m) => ({ hex: m.payload.toString('hex'), decoded: plain(decodeLink(m.payload)) }));
      const ipLinks = json<Array<{ ifindex: number; ifname: string; mtu: number; address: string; master?: string }>>('ip', 'link', 'show');
      for (const l of ipLinks) {
        const ours = links.find((x) => x.decoded.index === l.ifindex)?.decoded;
        check(`link ${l.ifname}`, ours !== undefined && ours.name === l.ifname && ours.mtu === l.mtu && (ours.mac ?? '00:00:00:00:00:00') === l.address);
      }

      const addrDump = exchange(socket, RTM.GETADDR, NLM_F.DUMP, encodeAddressDump(AF.UNSPEC));
      const addresses = dataMessages(addrDump, RTM.NEWADDR).map((m) => ({ hex: m.payload.toString('hex'), decoded: plain(decodeAddress(m.payload)) }));
      const ipAddrs = json<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>('ip', 'addr', 'show').flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
      check('addresses', JSON.stringify(addresses.map((a) => a.decoded.address).sort()) === JSON.stringify(ipAddrs.sort()));

      const routeDump = exchange(socket, RTM.GETROUTE, NLM_F.DUMP, encodeRouteDump(AF.UNSPEC));
      const routes = dataMessages(routeDump, RTM.NEWROUTE).map((m) => ({ hex: m.payload.toString('hex'), decoded: plain(decodeRoute(m.payload)) }));
      const ipRoutes = [...json<Array<{ dst: string; gateway?: string }>>('ip', 'route', 'show', 'table', 'all'), ...json<Array<{ dst: string; gateway?: string }>>('ip', '-6', 'route', 'show', 'table', 'all')];
      for (const r of ipRoutes.filter((x) => x.gateway)) {
        check(`route ${r.dst}`, routes.some((x) => x.decoded.gateway === r.gateway && (r.dst === 'default' ? x.decoded.destination === 'default' : x.decoded.destination.startsWith(r.dst))));
      }

      const neighbourMessages = [...dataMessages(exchange(socket, RTM.GETNEIGH, NLM_F.DUMP, encodeNeighbourDump(AF.UNSPEC, 0, false)), RTM.NEWNEIGH), ...dataMessages(exchange(socket, RTM.GETNEIGH, NLM_F.DUMP, encodeNeighbourDump(AF.UNSPEC, 0, true)), RTM.NEWNEIGH)];
      const neighbours = neighbourMessages.map((m) => ({ hex: m.payload.toString('hex'), decoded: plain(decodeNeighbour(m.payload)) })).filter((n) => n.decoded.ip !== undefined && n.decoded.mac !== '00:00:00:00:00:00' && (n.decoded.mac !== undefined || n.decoded.proxy));
      for (const n of json<Array<{ dst: string; lladdr?: string }>>('ip', 'neigh', 'show')) {
        check(`neighbour ${n.dst}`, neighbours.some((x) => x.decoded.ip === n.dst && x.decoded.mac === n.lladdr));
      }
      check('proxy neighbour', neighbours.some((x) => x.decoded.proxy && x.decoded.ip === '10.20.30.9'));

      const fdbMessages = dataMessages(exchange(socket, RTM.GETNEIGH, NLM_F.DUMP, encodeFdbDump()), RTM.NEWNEIGH);
      const fdb = fdbMessages.map((m) => ({ hex: m.payload.toString('hex'), decoded: plain(decodeFdb(m.payload)) })).filter((e) => ['02:42:0a:00:00:99', '00:00:00:00:00:00', '02:42:0a:00:00:98'].includes(e.decoded.mac) && (e.decoded.destination !== undefined || e.decoded.master));
      for (const e of json<Array<{ mac: string; dst?: string; flags: string[] }>>('bridge', 'fdb', 'show').filter((x) => ['02:42:0a:00:00:99', '02:42:0a:00:00:98'].includes(x.mac))) {
        check(`fdb ${e.mac}`, fdb.some((x) => x.decoded.mac === e.mac && x.decoded.destination === e.dst));
      }

      // Whole datagrams, headers included: an ack, errors with and without the kernel's
      // extended-ack text, a multi-part dump ending in NLMSG_DONE, and the echo of a delete.
      const newBridge = (linkName: string, kind = 'bridge'): Buffer =>
        Buffer.concat([encodeIfinfo(0), new AttributeWriter().string(IFLA.IFNAME, linkName).nested(IFLA.LINKINFO, (i) => i.string(IFLA_INFO.KIND, kind)).toBuffer()]);
      const ackDatagram = exchange(socket, RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, newBridge('br-cap'));
      const eexist = exchange(socket, RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, newBridge('br-cap'));
      const unknownKind = exchange(socket, RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, newBridge('x-cap', 'nctl-nokind'));
      const deleteEcho = exchange(socket, RTM.DELLINK, NLM_F.ACK | NLM_F.ECHO, Buffer.concat([encodeIfinfo(0), new AttributeWriter().string(IFLA.IFNAME, 'br-cap').toBuffer()]));
      const errorOf = (d: Buffer[]): unknown => plain(decodeError(decodeMessages(d.at(-1)!).find((m) => m.type === NLMSG.ERROR)!));
      const headersOf = (d: Buffer[]): unknown => d.map((x) => decodeMessages(x).map((m) => ({ type: m.type, flags: m.flags, length: m.payload.length })));
      const datagrams = {
        ack: { hex: ackDatagram.map((d) => d.toString('hex')), error: errorOf(ackDatagram) },
        eexist: { hex: eexist.map((d) => d.toString('hex')), error: errorOf(eexist) },
        unknownKind: { hex: unknownKind.map((d) => d.toString('hex')), error: errorOf(unknownKind) },
        linkDump: { hex: linkDump.map((d) => d.toString('hex')), messages: headersOf(linkDump), done: plain(decodeDone(dataMessages(linkDump, NLMSG.DONE)[0]!)) },
        deleteEcho: { hex: deleteEcho.map((d) => d.toString('hex')), messages: headersOf(deleteEcho) },
      };
      check('ack', (datagrams.ack.error as { errno: number }).errno === 0);
      check('EEXIST', (datagrams.eexist.error as { errno: number }).errno === os.constants.errno.EEXIST);
      check('EOPNOTSUPP', (datagrams.unknownKind.error as { errno: number; kernelMessage?: string }).kernelMessage !== undefined);
      check('delete echo', dataMessages(deleteEcho, RTM.DELLINK).length === 1);

      const out = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'netlink', `kernel-${os.release().split('.').slice(0, 2).join('.')}.json`);
      fs.writeFileSync(out, JSON.stringify({ kernel: os.release(), links, addresses, routes, neighbours, fdb, datagrams }, null, 1) + '\n');
      process.stdout.write(`wrote ${out}: ${links.length} links, ${addresses.length} addresses, ${routes.length} routes, ${neighbours.length} neighbours, ${fdb.length} FDB entries\n`);
    } finally {
      socket.close();
    }
  } finally {
    execFileSync('ip', ['netns', 'del', name]);
  }
}

main();
