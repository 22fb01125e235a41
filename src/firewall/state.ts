// What iptables-save shows of one table: its chains and its rules, as the exact lines
// netctl writes, so presence checks are string comparisons.

export interface TableState {
  chains: Set<string>;
  /** Rule lines without the leading "-A ", e.g. "FORWARD -j NETCTL-USER". */
  rules: string[];
}

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
