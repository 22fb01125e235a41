// What iptables-save shows of one table: its chains and its rules, as the exact lines
// netctl writes, so presence checks are string comparisons.

export interface TableState {
  chains: Set<string>;
  /** Rule lines without the leading "-A ", e.g. "FORWARD -j NETCTL-USER". */
  rules: string[];
}

export const emptyTable = (): TableState => ({ chains: new Set(), rules: [] });

export function parseSave(output: string): TableState {
  const chains = new Set<string>();
  const rules: string[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith(':')) chains.add(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-A ')) rules.push(line.slice(3));
  }
  return { chains, rules };
}

/** The rules of one chain, in order. */
export function chainRules(state: TableState, chain: string): string[] {
  return state.rules.filter((rule) => rule.startsWith(`${chain} `)).map((rule) => rule.slice(chain.length + 1));
}

const chainOf = (rule: string): string => rule.slice(0, rule.indexOf(' '));

/**
 * The state after iptables-restore --noflush committed `batch` to `state`: what the firewall
 * keeps instead of asking iptables-save before every change (its cost grows with the table).
 */
export function applyLines(state: TableState, batch: readonly string[]): TableState {
  const chains = new Set(state.chains);
  let rules = [...state.rules];
  for (const line of batch) {
    const [op, rest] = [line.slice(0, 2), line.slice(3)];
    if (line.startsWith(':')) {
      // A declaration with --noflush creates the chain or empties it.
      const name = line.slice(1).split(' ')[0]!;
      if (chains.has(name)) rules = rules.filter((rule) => chainOf(rule) !== name);
      chains.add(name);
    } else if (op === '-A') {
      rules.push(rest);
    } else if (op === '-D') {
      const at = rules.indexOf(rest);
      if (at >= 0) rules.splice(at, 1);
    } else if (op === '-X') {
      chains.delete(rest);
    } else if (op === '-I') {
      const [chain, position, ...spec] = rest.split(' ');
      const inChain = rules.map((rule, index) => [rule, index] as const).filter(([rule]) => chainOf(rule) === chain);
      const before = inChain[Number(position) - 1];
      rules.splice(before ? before[1] : inChain.length > 0 ? inChain[inChain.length - 1]![1] + 1 : rules.length, 0, `${chain} ${spec.join(' ')}`);
    }
  }
  return { chains, rules };
}
