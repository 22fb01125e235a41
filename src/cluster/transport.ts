// What membership needs from the network: best-effort packets for probes and gossip, and a
// reliable request/response exchange for push-pull (one framed request, one framed answer,
// which is all a push-pull stream carries).

export type PacketHandler = (packet: Buffer, from: string) => void;
/** Answers a push-pull request; throwing or returning undefined closes the stream unanswered. */
export type StreamHandler = (request: Buffer, from: string) => Buffer | undefined;

export interface Transport {
  /** "host:port" other members reach this one at. */
  readonly localAddress: string;
  /** Largest packet sendPacket carries; larger ones are refused. */
  readonly maxPacketSize: number;
  /** Best effort: a lost packet is not reported. */
  sendPacket(to: string, packet: Buffer): void;
  onPacket(handler: PacketHandler): void;
  /** Sends `request` over a stream and resolves with the answer; rejects on timeout or refusal. */
  exchange(to: string, request: Buffer, timeoutMs: number): Promise<Buffer>;
  onStream(handler: StreamHandler): void;
  close(): Promise<void>;
}

export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: 'timeout' | 'refused' | 'too-large' | 'closed',
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
