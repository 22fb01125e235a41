// What the bridge driver asks of the firewall for one network, and its validation.
import net from 'node:net';
import { InvalidRuleError } from './errors';

export type Protocol = 'tcp' | 'udp' | 'sctp';

export interface PublishedPort {
  protocol: Protocol;
  /** Host address to listen on, of the container address's family; for IPv4 the network's hostBindingIpv4 or any local address when absent. */
  hostIp?: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export interface NetworkRules {
  /** The network ID (hex); its first 12 characters name the chains. */
  id: string;
  bridge: string;
  /** Subnets of the network, IPv4 and (dual stack) IPv6; each family is programmed by its own tool. */
  subnets: string[];
  /** com.docker.network.bridge.enable_icc (default true). */
  icc: boolean;
  /** com.docker.network.bridge.enable_ip_masquerade (default true). */
  masquerade: boolean;
  /** --internal: no traffic to or from other interfaces, no NAT. */
  internal: boolean;
  /** com.docker.network.bridge.host_binding_ipv4: default host address of published ports. */
  hostBindingIpv4?: string;
  ports: PublishedPort[];
}


function checkPort(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new InvalidRuleError(field, value, 'must be a port from 1 to 65535');
}

function checkIpv4(field: string, value: string): void {
  if (net.isIPv4(value) === false) throw new InvalidRuleError(field, value, 'must be an IPv4 address');
}

function checkSubnet(subnet: string): void {
  const [ip, length, extra] = subnet.split('/');
  const max = net.isIPv4(ip ?? '') ? 32 : net.isIPv6(ip ?? '') ? 128 : 0;
  if (max === 0 || extra !== undefined || !/^\d{1,3}$/.test(length ?? '') || Number(length) > max) {
    throw new InvalidRuleError('subnet', subnet, 'must be a CIDR like 172.18.0.0/16 or fd00:1::/64');
  }
}

/** Refuses input iptables would choke on half-way, before anything is applied. */
export function validate(rules: NetworkRules): void {
  if (!/^[0-9a-f]{12,64}$/.test(rules.id)) throw new InvalidRuleError('network ID', rules.id, 'must be 12 to 64 lowercase hex characters');
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(rules.bridge)) throw new InvalidRuleError('bridge name', rules.bridge, 'must be 1 to 15 characters of letters, digits, _ . -');
  if (rules.subnets.length === 0) throw new InvalidRuleError('subnets', rules.subnets, 'a network needs at least one subnet');
  for (const subnet of rules.subnets) checkSubnet(subnet);
  if (rules.hostBindingIpv4 !== undefined) checkIpv4('host binding address', rules.hostBindingIpv4);
  for (const port of rules.ports) {
    if (!['tcp', 'udp', 'sctp'].includes(port.protocol)) throw new InvalidRuleError('protocol', port.protocol, 'must be tcp, udp or sctp');
    checkPort('host port', port.hostPort);
    checkPort('container port', port.containerPort);
    if (net.isIP(port.containerIp) === 0) throw new InvalidRuleError('container address', port.containerIp, 'must be an IPv4 or IPv6 address');
    if (port.hostIp !== undefined && net.isIP(port.hostIp) !== net.isIP(port.containerIp)) {
      throw new InvalidRuleError('host address', port.hostIp, `must be an address of the container address's family (${port.containerIp})`);
    }
  }
}
