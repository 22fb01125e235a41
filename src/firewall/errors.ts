// Firewall errors: what iptables refused (table, line, its own words), or what input was wrong.

export class FirewallError extends Error {
  override readonly name = 'FirewallError';
  constructor(
    readonly table: string,
    /** iptables' own message, e.g. "iptables-restore: line 5 failed: ...". */
    readonly stderr: string,
    /** The batch line iptables named, when it named one. */
    readonly failedLine: string | undefined,
  ) {
    super(`iptables refused the ${table} table batch${failedLine ? ` at "${failedLine}"` : ''}: ${stderr.trim() || 'no message'}`);
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
