// Updates waiting to be gossiped: each goes out a bounded number of times, fewest-sent first (older
// first among equals), and a newer update about a node replaces the older one still queued.
// Every operation is O(log n), as memberlist's btree-ordered queue: thousands of members each
// queue an update about every other when a large cluster forms.

export interface QueuedBroadcast {
  /** The node the update is about: a newer one with the same key invalidates this one. */
  key: string;
  payload: Buffer;
  transmits: number;
  /** Resolves once the update was sent its last time or was replaced. */
  onDone?: () => void;
}

interface Entry extends QueuedBroadcast {
  /** Queue order: lower is older. */
  seq: number;
}

/** Retransmissions for a cluster of `clusterSize`: multiplier × ceil(log10(n + 1)). */
export function retransmitLimit(multiplier: number, clusterSize: number): number {
  return multiplier * Math.ceil(Math.log10(clusterSize + 1));
}

interface TreapNode {
  entry: Entry;
  priority: number;
  left: TreapNode | undefined;
  right: TreapNode | undefined;
  /** Smallest payload in this subtree: finds the oldest update that fits a budget in O(log n). */
  minSize: number;
}

function refresh(node: TreapNode): TreapNode {
  node.minSize = Math.min(node.entry.payload.length, node.left?.minSize ?? Infinity, node.right?.minSize ?? Infinity);
  return node;
}

/** Joins two treaps where every seq in `a` is below every seq in `b`. */
function merge(a: TreapNode | undefined, b: TreapNode | undefined): TreapNode | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    return refresh(a);
  }
  b.left = merge(a, b.left);
  return refresh(b);
}

/** Splits into seqs below `seq` and the rest. */
function split(node: TreapNode | undefined, seq: number): [TreapNode | undefined, TreapNode | undefined] {
  if (!node) return [undefined, undefined];
  if (node.entry.seq < seq) {
    const [left, right] = split(node.right, seq);
    node.right = left;
    return [refresh(node), right];
  }
  const [left, right] = split(node.left, seq);
  node.left = right;
  return [left, refresh(node)];
}

/** A hash of the seq as the heap priority: a balanced tree without a random source. */
function priorityOf(seq: number): number {
  let x = Math.imul(seq ^ (seq >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The updates sent equally often, ordered by seq. */
class Level {
  private root: TreapNode | undefined;

  insert(entry: Entry): void {
    const [left, right] = split(this.root, entry.seq);
    const node: TreapNode = { entry, priority: priorityOf(entry.seq), left: undefined, right: undefined, minSize: entry.payload.length };
    this.root = merge(merge(left, node), right);
  }

  remove(entry: Entry): void {
    const [left, rest] = split(this.root, entry.seq);
    const [, right] = split(rest, entry.seq + 1);
    this.root = merge(left, right);
  }

  /** The oldest update whose payload is at most `maxBytes`. */
  oldestFitting(maxBytes: number): Entry | undefined {
    let node = this.root;
    while (node && node.minSize <= maxBytes) {
      if (node.left && node.left.minSize <= maxBytes) node = node.left;
      else if (node.entry.payload.length <= maxBytes) return node.entry;
      else node = node.right;
    }
    return undefined;
  }
}

export class BroadcastQueue {
  private readonly byKey = new Map<string, Entry>();
  /** Indexed by transmit count. */
  private levels: Level[] = [];
  private seq = 0;

  constructor(
    private readonly multiplier: number,
    private readonly clusterSize: () => number,
  ) {}

  get length(): number {
    return this.byKey.size;
  }

  queue(key: string, payload: Buffer, onDone?: () => void): void {
    const replaced = this.byKey.get(key);
    if (replaced) {
      this.byKey.delete(key);
      this.levelOf(replaced.transmits).remove(replaced);
      replaced.onDone?.();
    }
    const entry: Entry = { key, payload, transmits: 0, onDone, seq: this.seq++ };
    this.byKey.set(key, entry);
    this.levelOf(0).insert(entry);
  }

  /**
   * Takes up to `maxCount` broadcasts whose sizes (each plus `overhead`) fit in `budget` bytes, fewest-sent first,
   * and counts them as sent once more; those at the limit leave the queue.
   */
  take(overhead: number, budget: number, maxCount = Infinity): Buffer[] {
    const limit = retransmitLimit(this.multiplier, this.clusterSize());
    const sent: Entry[] = [];
    let free = budget;
    for (const level of this.levels) {
      if (sent.length >= maxCount) break;
      // What did not fit stays too big as the budget shrinks, so each search starts from the oldest.
      for (let entry = level.oldestFitting(free - overhead); entry && sent.length < maxCount; entry = level.oldestFitting(free - overhead)) {
        level.remove(entry);
        free -= entry.payload.length + overhead;
        sent.push(entry);
      }
    }
    // Placed back only now: an update goes out at most once per packet.
    for (const entry of sent) {
      entry.transmits++;
      if (entry.transmits < limit) {
        this.levelOf(entry.transmits).insert(entry);
      } else {
        this.byKey.delete(entry.key);
        entry.onDone?.();
      }
    }
    return sent.map((entry) => entry.payload);
  }

  clear(): void {
    const entries = [...this.byKey.values()];
    this.byKey.clear();
    this.levels = [];
    for (const entry of entries) entry.onDone?.();
  }

  private levelOf(transmits: number): Level {
    while (this.levels.length <= transmits) this.levels.push(new Level());
    return this.levels[transmits]!;
  }
}
