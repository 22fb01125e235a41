// One JSON line per figure, the format every netctl benchmark prints (see README, Benchmarks).

export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** The peer measured in the same run, or null where none exists on this machine. */
  peer: string | null;
  peer_value: number | null;
  /** > 1 means netctl is better: peer latency ÷ ours, or our throughput ÷ the peer's. */
  ratio: number | null;
}

export type Better = 'lower' | 'higher';

/** Prints a figure; `better` says which direction wins so the ratio is always "> 1 = netctl ahead". */
export function report(
  bench: string,
  metric: string,
  value: number,
  unit: string,
  better: Better,
  peer?: { name: string; value: number },
): Figure {
  const ratio = peer && value > 0 && peer.value > 0 ? (better === 'lower' ? peer.value / value : value / peer.value) : null;
  const figure: Figure = {
    bench,
    metric,
    value: round(value),
    unit,
    peer: peer?.name ?? null,
    peer_value: peer ? round(peer.value) : null,
    ratio: ratio === null ? null : round(ratio),
  };
  process.stdout.write(JSON.stringify(figure) + '\n');
  return figure;
}

function round(n: number): number {
  return Number(n.toPrecision(4));
}

/** Median of a non-empty list of samples. */
export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds since `start` (a process.hrtime.bigint() reading). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
