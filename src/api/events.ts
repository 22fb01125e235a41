// GET /events: the bus's kept events from `since`, then live ones until `until` (or until the
// client leaves), one JSON object a line, as Docker streams them.
import type { ServerResponse } from 'node:http';
import { type EngineEvent, type EventBus, eventJson } from '../events/bus';
import { badRequest } from './errors';
import { eventMatches, parseEventFilters } from './event-filters';
import type { Router } from './router';

const NANOS = 1_000_000_000n;
/** setTimeout's longest delay; a later `until` is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Docker's event times: Unix seconds with an optional fraction (what its CLI sends), or an RFC 3339 date. In nanoseconds. */
export function parseEventTime(key: string, value: string): bigint {
  const timestamp = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(value);
  if (timestamp) return BigInt(timestamp[1]!) * NANOS + BigInt((timestamp[2] ?? '').padEnd(9, '0'));
  const date = Date.parse(value);
  if (/^\d{4}-\d\d-\d\d/.test(value) && !Number.isNaN(date)) return BigInt(date) * 1_000_000n;
  throw badRequest(`invalid value "${value}" for ${key}: give a Unix timestamp in seconds (a fraction allowed) or an RFC 3339 date`);
}

export function addEventRoutes(router: Router, bus: EventBus): void {
  router.add('GET', '/events', (request) => {
    const filters = parseEventFilters(request.query.get('filters'));
    const sinceText = request.query.get('since') || undefined;
    const untilText = request.query.get('until') || undefined;
    const since = sinceText !== undefined ? parseEventTime('since', sinceText) : undefined;
    const until = untilText !== undefined ? parseEventTime('until', untilText) : undefined;
    if (since !== undefined && until !== undefined && since > until) throw badRequest(`\`since\` time (${sinceText}) cannot be after \`until\` time (${untilText})`);
    return {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      stream: (out) => streamEvents(out, bus, (event) => eventMatches(event, filters), since, until),
    };
  });
}

/** What a subscriber may leave unread before its stream is ended. */
const MAX_UNREAD_BYTES = 1 << 20;

function streamEvents(out: ServerResponse, bus: EventBus, wanted: (event: EngineEvent) => boolean, since: bigint | undefined, until: bigint | undefined): Promise<void> {
  return new Promise((resolve) => {
    let last = -1n;
    let timer: NodeJS.Timeout | undefined;
    // Live events before a `since` in the future are not sent either.
    const send = (event: EngineEvent): void => {
      if (event.timeNano <= last || (since !== undefined && event.timeNano < since) || (until !== undefined && event.timeNano > until)) return;
      last = event.timeNano;
      if (!wanted(event)) return;
      out.write(`${eventJson(event)}\n`);
      // A subscriber that does not read is let go, as dockerd does, rather than held in memory.
      if (out.writableLength > MAX_UNREAD_BYTES) finish();
    };
    // Subscribed before the history is read: nothing published in between is missed, nor sent twice.
    const unsubscribe = bus.subscribe(send);
    const socket = out.socket;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      socket?.off('end', finish);
      unsubscribe();
      clearTimeout(timer);
      out.end();
      resolve();
    };
    out.once('close', finish);
    // The server lets clients half-close (for Docker's hijacked streams), so a client that leaves is
    // seen first as the end of what it sends; a quiet stream would not notice it otherwise.
    socket?.once('end', finish);
    if (since !== undefined) for (const event of bus.past(since, until)) send(event);
    if (until === undefined) return;
    const waitUntil = (): void => {
      const left = Number((until - BigInt(Date.now()) * 1_000_000n) / 1_000_000n);
      if (left < 0) return finish();
      timer = setTimeout(waitUntil, Math.min(left + 1, MAX_TIMER_MS));
    };
    waitUntil();
  });
}
