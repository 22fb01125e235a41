// netctl's one iptables module: per-network chains, NAT, isolation, published ports.
export { Firewall } from './firewall';
export type { NetworkRules, PublishedPort, Protocol } from './spec';
export { FirewallError, InvalidRuleError } from './errors';
export type { IptablesOptions } from './iptables';
