// Docker's event stream: what the controller, the launcher and the image store did, as Docker's
// events.Message, kept in a bounded history for `since` and handed to live subscribers.

export type EventType = 'container' | 'network' | 'image';

export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  /** Seconds since the epoch. */
  time: number;
  /** Nanoseconds since the epoch: past 2^53, so a bigint (written as a JSON integer by eventJson). */
  timeNano: bigint;
}

/** What the publishers see of the bus. */
export interface EventSink {
  publish(type: EventType, action: string, id: string, attributes?: Record<string, string>): void;
}

/** Docker keeps the last 256 events for `since`. */
export const HISTORY_LIMIT = 256;

export class EventBus implements EventSink {
  private readonly history: EngineEvent[] = [];
  private readonly listeners = new Set<(event: EngineEvent) => void>();
  private lastNano = 0n;

  constructor(private readonly limit = HISTORY_LIMIT) {}

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    // Strictly increasing, so `since`/`until` bounds and the order of the history agree.
    let nano = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    if (nano <= this.lastNano) nano = this.lastNano + 1n;
    this.lastNano = nano;
    const event: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: { ...attributes } }, scope: 'local', time: Number(nano / 1_000_000_000n), timeNano: nano };
    this.history.push(event);
    if (this.history.length > this.limit) this.history.shift();
    for (const listener of this.listeners) listener(event);
  }

  /** The kept events from `sinceNano` to `untilNano` (inclusive; no end when absent), oldest first. */
  past(sinceNano: bigint, untilNano?: bigint): EngineEvent[] {
    return this.history.filter((e) => e.timeNano >= sinceNano && (untilNano === undefined || e.timeNano <= untilNano));
  }

  /** Every event from now on, until the returned function is called. */
  subscribe(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}

/**
 * One line of GET /events. Container and image events carry Docker's older fields too (status,
 * id, from) that Docker's CLI and docker-compose still read.
 */
export function eventJson(event: EngineEvent): string {
  const legacy = event.Type === 'network' ? {} : { status: event.Action, id: event.Actor.ID, ...(event.Type === 'container' && event.Actor.Attributes['image'] !== undefined ? { from: event.Actor.Attributes['image'] } : {}) };
  const { timeNano, ...rest } = { ...legacy, ...event };
  return `${JSON.stringify(rest).slice(0, -1)},"timeNano":${timeNano.toString()}}`;
}
