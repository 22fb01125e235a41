// Firewall errors: what iptables refused (tool, table, line, its own words), or what input was wrong.

export class FirewallError extends Error {
  override readonly name = 'FirewallError';
  constructor(
    /** iptables or ip6tables. */
    readonly command: string,
    readonly table: string,
    /** The tool's own message, e.g. "iptables-restore: line 5 failed: ...". */
    readonly stderr: string,
    /** The batch line the tool named, when it named one. */
    readonly failedLine: string | undefined,
  ) {
    super(`${command} refused the ${table} table batch${failedLine ? ` at "${failedLine}"` : ''}: ${stderr.trim() || 'no message'}`);
  }
}

export class InvalidRuleError extends Error {
  override readonly name = 'InvalidRuleError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    rule: string,
  ) {
    super(`invalid ${field} ${JSON.stringify(value)}: ${rule}`);
  }
}

export class InvalidChainPrefixError extends Error {
  override readonly name = 'InvalidChainPrefixError';
  constructor(
    readonly prefix: string,
    rule: string,
  ) {
    super(`invalid iptables chain prefix ${JSON.stringify(prefix)}: ${rule}`);
  }
}
