// netctl's one iptables module: per-network chains, NAT, isolation, published ports.
export { Firewall, type FirewallOptions } from './firewall';
export type { NetworkRules, PublishedPort, Protocol } from './spec';
export { FirewallError, InvalidChainPrefixError, InvalidRuleError } from './errors';
export type { IptablesOptions } from './iptables';
