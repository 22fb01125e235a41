// The real transport: gossip packets over UDP, push-pull over TCP on the same port. Packets and
// streams are bounded in size and streams in time, so a peer cannot exhaust memory or sockets.
import dgram from 'node:dgram';
import net from 'node:net';
import { TransportError, type PacketHandler, type StreamHandler, type Transport } from './transport';

export interface UdpTransportOptions {
  /** Address to bind, e.g. "10.0.0.2"; IPv4 or IPv6. */
  host: string;
  /** 0 picks a free port (the same for UDP and TCP). */
  port?: number;
  maxPacketSize?: number;
  /** Largest push-pull body accepted, either direction. */
  maxStreamBytes?: number;
  /** How long an incoming stream may take to deliver its request. */
  streamTimeoutMs?: number;
}

const FRAME_HEADER = 4;

export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new TransportError(`"${address}" is not host:port`, 'refused');
  return { host, port };
}

export function joinAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function frame(body: Buffer): Buffer {
  const header = Buffer.alloc(FRAME_HEADER);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

/** Reads one length-prefixed frame from `socket`, refusing bodies over `maxBytes`. */
function readFrame(socket: net.Socket, maxBytes: number, timeoutMs: number, peer: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    /** The body's length, once the header is in. */
    let length: number | undefined;
    const fail = (error: TransportError): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new TransportError(`stream with ${peer} timed out after ${timeoutMs} ms`, 'timeout')), timeoutMs);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < FRAME_HEADER) return;
      // The chunks are joined once for the header (when the first is shorter) and once for the
      // frame: a peer sending a byte at a time costs linear time, not quadratic.
      if (length === undefined) {
        length = (chunks[0]!.length >= FRAME_HEADER ? chunks[0]! : Buffer.concat(chunks)).readUInt32BE(0);
        if (length > maxBytes) return fail(new TransportError(`stream from ${peer} announces ${length} bytes, more than ${maxBytes}`, 'too-large'));
      }
      if (received > FRAME_HEADER + length) return fail(new TransportError(`stream from ${peer} sent bytes after its frame`, 'refused'));
      if (received === FRAME_HEADER + length) {
        cleanup();
        resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).subarray(FRAME_HEADER));
      }
    };
    const onEnd = (): void => fail(new TransportError(`${peer} closed the stream before a whole frame`, 'refused'));
    const onError = (error: Error): void => fail(new TransportError(`stream with ${peer}: ${error.message}`, 'refused'));
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData).off('end', onEnd).off('error', onError);
    };
    socket.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** What went over a transport since it opened: datagrams, and push-pull streams (their frames). */
export interface TrafficCounters {
  packetsSent: number;
  packetsReceived: number;
  streams: number;
  /** Datagram and stream bytes, each way. */
  bytesSent: number;
  bytesReceived: number;
}

export class UdpTransport implements Transport {
  readonly localAddress: string;
  readonly maxPacketSize: number;
  readonly traffic: TrafficCounters = { packetsSent: 0, packetsReceived: 0, streams: 0, bytesSent: 0, bytesReceived: 0 };
  private packetHandler: PacketHandler | undefined;
  private streamHandler: StreamHandler | undefined;
  private readonly openSockets = new Set<net.Socket>();
  private closed = false;

  private constructor(
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    host: string,
    port: number,
    private readonly maxStreamBytes: number,
    private readonly streamTimeoutMs: number,
    maxPacketSize: number,
  ) {
    this.localAddress = joinAddress(host, port);
    this.maxPacketSize = maxPacketSize;
    udp.on('message', (packet, from) => {
      this.traffic.packetsReceived++;
      this.traffic.bytesReceived += packet.length;
      if (!this.closed) this.packetHandler?.(packet, joinAddress(from.address, from.port));
    });
    // Errors on an unconnected UDP socket (ICMP unreachable and the like) are lost packets.
    udp.on('error', () => {});
    tcp.on('connection', (socket) => this.serve(socket));
  }

  /** Binds UDP and TCP on one port; with port 0, retries a few ports if TCP finds the UDP port taken. */
  static async create(options: UdpTransportOptions): Promise<UdpTransport> {
    const maxPacketSize = options.maxPacketSize ?? 1400;
    if (maxPacketSize < 64 || maxPacketSize > 65_507) throw new RangeError(`maxPacketSize must be between 64 and 65507 bytes, got ${maxPacketSize}`);
    const attempts = options.port ? 1 : 5;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const udp = dgram.createSocket({ type: net.isIPv6(options.host) ? 'udp6' : 'udp4' });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind({ address: options.host, port: options.port ?? 0, exclusive: true }, () => {
            udp.off('error', reject);
            resolve();
          });
        });
      } catch (error) {
        udp.close();
        throw error;
      }
      const port = udp.address().port;
      const tcp = net.createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({ host: options.host, port, exclusive: true }, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
        return new UdpTransport(udp, tcp, options.host, port, options.maxStreamBytes ?? 4 << 20, options.streamTimeoutMs ?? 10_000, maxPacketSize);
      } catch (error) {
        lastError = error;
        udp.close();
        tcp.close();
      }
    }
    throw lastError;
  }

  sendPacket(to: string, packet: Buffer): void {
    if (this.closed) return;
    if (packet.length > this.maxPacketSize) throw new TransportError(`packet of ${packet.length} bytes exceeds ${this.maxPacketSize}`, 'too-large');
    const { host, port } = splitAddress(to);
    this.traffic.packetsSent++;
    this.traffic.bytesSent += packet.length;
    this.udp.send(packet, port, host, () => {});
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  async exchange(to: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.closed) throw new TransportError('transport is closed', 'closed');
    if (request.length > this.maxStreamBytes) throw new TransportError(`push-pull of ${request.length} bytes exceeds ${this.maxStreamBytes}`, 'too-large');
    const { host, port } = splitAddress(to);
    const socket = net.connect({ host, port });
    this.openSockets.add(socket);
    socket.once('close', () => this.openSockets.delete(socket));
    try {
      const answer = readFrame(socket, this.maxStreamBytes, timeoutMs, to);
      this.traffic.streams++;
      this.traffic.bytesSent += FRAME_HEADER + request.length;
      socket.write(frame(request));
      const answered = await answer;
      this.traffic.bytesReceived += FRAME_HEADER + answered.length;
      return answered;
    } finally {
      socket.destroy();
    }
  }

  onStream(handler: StreamHandler): void {
    this.streamHandler = handler;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.openSockets) socket.destroy();
    await Promise.all([new Promise<void>((resolve) => this.udp.close(() => resolve())), new Promise<void>((resolve) => this.tcp.close(() => resolve()))]);
  }

  private async serve(socket: net.Socket): Promise<void> {
    this.openSockets.add(socket);
    socket.once('close', () => this.openSockets.delete(socket));
    // readFrame's listener goes with the frame: a peer that resets before the answer would crash the daemon.
    socket.on('error', () => undefined);
    const peer = joinAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    try {
      const request = await readFrame(socket, this.maxStreamBytes, this.streamTimeoutMs, peer);
      this.traffic.streams++;
      this.traffic.bytesReceived += FRAME_HEADER + request.length;
      const answer = this.closed ? undefined : this.streamHandler?.(request, peer);
      if (answer && answer.length <= this.maxStreamBytes) {
        this.traffic.bytesSent += FRAME_HEADER + answer.length;
        socket.end(frame(answer));
      } else socket.destroy();
    } catch {
      // A bad or slow peer only loses its own stream.
      socket.destroy();
    }
  }
}
