// The embedded DNS for tests, run inside a test host (`nsenter --net=...`): serves sandboxes
// (argv: sandbox keys joined by commas, JSON of {names, networkIds, mayForward, deadOnly?,
// timeoutMs?, ownUpstreamsFrom?, upstreams?}), forwarding to two upstreams it runs itself in the
// test host: 127.0.0.1:5301 drops every packet (a dead resolver), and 127.0.0.1:5300 answers
// example.org with 192.0.2.99 and anything else NXDOMAIN; with deadOnly, to the dead one alone.
// `upstreams` replaces the list (addresses where nothing listens, or no route goes). Sandboxes
// from the index ownUpstreamsFrom on have that list as resolvers of their own (as `run --dns`
// gives): a forwarder each, with its own view of which resolver is dead. `throwOn` names a name
// whose lookup throws, as a bug would. Prints "ready"; stdin closing ends it.
import dgram from 'node:dgram';
import net from 'node:net';
import DNS from 'dns2';
import { Forwarder } from '../../src/dns/forwarder';
import { type Answer, type Family, type NamedEndpoint, NameTable } from '../../src/dns/names';
import { DnsServer } from '../../src/dns/server';

const { Packet } = DNS;

function answer(message: Buffer): Buffer {
  const request = Packet.parse(message);
  const response = Packet.createResponseFromRequest(request);
  const question = request.questions[0]!;
  if (question.name.toLowerCase() === 'example.org' && question.type === Packet.TYPE.A) {
    response.answers.push(Packet.createResourceFromQuestion(question, { type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 30, address: '192.0.2.99' }));
  } else response.header.rcode = Packet.RCODE.NXDOMAIN;
  return response.toBuffer();
}

function fakeUpstream(): Promise<void> {
  const alive = dgram.createSocket('udp4');
  alive.on('message', (message, peer) => alive.send(answer(message), peer.port, peer.address));
  // Over TCP the live one answers each length-prefixed query; the dead one accepts and stays silent.
  const aliveTcp = net.createServer((c) => {
    let buffered = Buffer.alloc(0);
    c.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      const reply = answer(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      const length = Buffer.alloc(2);
      length.writeUInt16BE(reply.length);
      c.end(Buffer.concat([length, reply]));
    });
  });
  const deadTcp = net.createServer(() => undefined);
  const dead = dgram.createSocket('udp4');
  dead.on('message', () => undefined);
  return Promise.all([
    new Promise<void>((r) => alive.bind(5300, '127.0.0.1', r)),
    new Promise<void>((r) => dead.bind(5301, '127.0.0.1', r)),
    new Promise<void>((r) => aliveTcp.listen(5300, '127.0.0.1', r)),
    new Promise<void>((r) => deadTcp.listen(5301, '127.0.0.1', r)),
  ]).then(() => undefined);
}

async function main(): Promise<void> {
  const [keys, json] = process.argv.slice(2);
  const config = JSON.parse(json!) as { names: NamedEndpoint[]; networkIds: string[]; mayForward: boolean; deadOnly?: boolean; timeoutMs?: number; ownUpstreamsFrom?: number; upstreams?: Array<{ address: string; port: number }>; throwOn?: string };
  await fakeUpstream();
  const names = new (class extends NameTable {
    override lookup(query: string, networkIds: readonly string[], family: Family): Answer {
      if (query === config.throwOn) throw new Error(`lookup of ${query} failed`);
      return super.lookup(query, networkIds, family);
    }
  })();
  config.names.forEach((endpoint, i) => names.add(`e${i}`, endpoint));
  const dead = { address: '127.0.0.1', port: 5301 };
  const upstreams = config.upstreams ?? (config.deadOnly ? [dead] : [dead, { address: '127.0.0.1', port: 5300 }]);
  const server = new DnsServer(names, new Forwarder(upstreams, config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}));
  keys!.split(',').forEach((key, i) => {
    const own = config.ownUpstreamsFrom !== undefined && i >= config.ownUpstreamsFrom;
    server.open(key, { networkIds: () => config.networkIds, mayForward: () => config.mayForward, ...(own ? { upstreams } : {}) });
  });
  process.stdout.write('ready\n');
  process.stdin.resume();
  process.stdin.on('end', () => {
    server.closeAll();
    process.exit(0);
  });
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
