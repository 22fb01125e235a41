// Pure rendering of iptables-restore batches from a network's rules and the tables' current
// state. Shared chains only ever get or lose the lines of the network at hand; a network's own
// chains are declared in every batch, which with --noflush flushes and refills them, so applying
// twice changes nothing.
import type { ChainNames } from './chains';
import type { FamilyTraits } from './family';
import type { NetworkRules, PublishedPort } from './spec';
import { chainRules, type TableState } from './state';

export type Table = 'filter' | 'nat';

/** Lines between "*table" and "COMMIT"; empty when nothing is to change. */
export type Batch = string[];

export interface Batches {
  filter: Batch;
  nat: Batch;
}

class BatchBuilder {
  readonly lines: Batch = [];
  constructor(private readonly state: TableState) {}

  /** Declares a chain only when missing: declaring an existing shared chain would flush it. */
  chain(name: string): this {
    if (!this.state.chains.has(name)) this.lines.push(`:${name} - [0:0]`);
    return this;
  }

  /** Declares a chain whatever its state: with --noflush this empties it for a refill. */
  fresh(name: string): this {
    this.lines.push(`:${name} - [0:0]`);
    return this;
  }

  append(rule: string): this {
    if (!this.state.rules.includes(rule)) this.lines.push(`-A ${rule}`);
    return this;
  }

  /** Inserts at a position, for hooks that must come before other rules. */
  insert(chain: string, position: number, rest: string): this {
    if (!this.state.rules.includes(`${chain} ${rest}`)) this.lines.push(`-I ${chain} ${position} ${rest}`);
    return this;
  }

  delete(rule: string): this {
    if (this.state.rules.includes(rule)) this.lines.push(`-D ${rule}`);
    return this;
  }

  /** Removes a chain of netctl's own with whatever rules it holds (its references must be gone first). */
  drop(name: string): this {
    if (this.state.chains.has(name)) this.lines.push(`:${name} - [0:0]`, `-X ${name}`);
    return this;
  }

  /** Removes a chain that others may fill: the kernel refuses (and the batch fails) unless it is empty. */
  dropIfEmpty(name: string): this {
    if (this.state.chains.has(name)) this.lines.push(`-X ${name}`);
    return this;
  }
}

const outputHook = (names: ChainNames, traits: FamilyTraits): string => `OUTPUT ${traits.unreachableLoopback ? `! -d ${traits.unreachableLoopback} ` : ''}-m addrtype --dst-type LOCAL -j ${names.dnat}`;
const preroutingHook = (names: ChainNames): string => `PREROUTING -m addrtype --dst-type LOCAL -j ${names.dnat}`;

const portMatch = (p: PublishedPort, port: number): string => `-p ${p.protocol} -m ${p.protocol} --dport ${port}`;

function filterRules(rules: NetworkRules, traits: FamilyTraits): string[] {
  const br = rules.bridge;
  const icc = `-i ${br} -o ${br} -j ${rules.icc ? 'ACCEPT' : 'DROP'}`;
  if (rules.internal) return [`-i ${br} ! -o ${br} -j DROP`, `! -i ${br} -o ${br} -j DROP`, icc];
  return [
    icc,
    ...rules.ports.map((p) => `-d ${p.containerIp}/${traits.hostLength} ! -i ${br} -o ${br} ${portMatch(p, p.containerPort)} -j ACCEPT`),
    `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-i ${br} ! -o ${br} -j ACCEPT`,
    // Unsolicited traffic into the network from elsewhere: only published ports get in.
    `! -i ${br} -o ${br} -j DROP`,
  ];
}

function dnatRules(rules: NetworkRules, traits: FamilyTraits): string[] {
  if (rules.internal) return [];
  return rules.ports.map((p) => {
    const hostIp = p.hostIp ?? (traits.family === 'ipv4' ? rules.hostBindingIpv4 : undefined);
    // No "! -i bridge": containers reach their neighbours' published ports through the host
    // address too (hairpin NAT, as Docker does without its userland proxy).
    const destination = hostIp && hostIp !== traits.anyAddress ? `-d ${hostIp}/${traits.hostLength} ` : '';
    return `${destination}${portMatch(p, p.hostPort)} -j DNAT --to-destination ${traits.dnatTarget(p.containerIp, p.containerPort)}`;
  });
}

function masqueradeRules(rules: NetworkRules, traits: FamilyTraits): string[] {
  if (rules.internal) return [];
  return [
    ...(rules.masquerade ? rules.subnets.map((s) => `-s ${s} ! -o ${rules.bridge} -j MASQUERADE`) : []),
    // The host's own 127.0.0.1 reaching a published port leaves loopback for the bridge.
    ...(rules.ports.length > 0 && !traits.unreachableLoopback ? [`-s 127.0.0.0/8 -o ${rules.bridge} -j MASQUERADE`] : []),
    // Hairpin: a container of this network reaching a published port through a host address must
    // see the reply come back through the host too, not straight across the bridge. Only
    // connections that were DNATed: direct traffic between neighbours keeps its source.
    ...rules.ports.flatMap((p) => rules.subnets.map((s) => `-s ${s} -d ${p.containerIp}/${traits.hostLength} ${portMatch(p, p.containerPort)} -m conntrack --ctstate DNAT -j MASQUERADE`)),
  ];
}

/** The rules of one family: `rules` already holds only that family's subnets and ports. */
export function renderApply(rules: NetworkRules, filter: TableState, nat: TableState, traits: FamilyTraits, names: ChainNames): Batches {
  const chains = names.network(rules.id);
  const br = rules.bridge;
  const { user, forward, isolation1, isolation2 } = names;
  const f = new BatchBuilder(filter).chain(user).chain(forward).chain(isolation1).chain(isolation2);
  f.insert('FORWARD', 1, `-j ${user}`).insert('FORWARD', 2, `-j ${forward}`).insert(forward, 1, `-j ${isolation1}`);
  f.fresh(chains.filter);
  for (const rule of filterRules(rules, traits)) f.lines.push(`-A ${chains.filter} ${rule}`);
  f.append(`${forward} -o ${br} -j ${chains.filter}`).append(`${forward} -i ${br} -j ${chains.filter}`);
  f.append(`${isolation1} -i ${br} ! -o ${br} -j ${isolation2}`).append(`${isolation2} -o ${br} -j DROP`);

  const n = new BatchBuilder(nat).chain(names.dnat).chain(names.postrouting);
  n.append(preroutingHook(names)).append(outputHook(names, traits)).append(`POSTROUTING -j ${names.postrouting}`);
  n.fresh(chains.dnat).fresh(chains.masquerade);
  for (const rule of dnatRules(rules, traits)) n.lines.push(`-A ${chains.dnat} ${rule}`);
  for (const rule of masqueradeRules(rules, traits)) n.lines.push(`-A ${chains.masquerade} ${rule}`);
  n.append(`${names.dnat} -j ${chains.dnat}`).append(`${names.postrouting} -j ${chains.masquerade}`);
  return { filter: f.lines, nat: n.lines };
}

/** The bridge of a network as its hook line in the forward chain names it, if present. */
export function bridgeOf(networkId: string, filter: TableState, names: ChainNames): string | undefined {
  const hook = chainRules(filter, names.forward).find((r) => r.endsWith(` -j ${names.network(networkId).filter}`) && r.startsWith('-o '));
  return hook?.split(' ')[1];
}

/** IDs (12 hex) of the networks whose chains of this prefix are in the filter table. */
export function networksPresent(filter: TableState, names: ChainNames): string[] {
  return [...filter.chains].flatMap((chain) => names.networkOf(chain) ?? []);
}

/** Removes a network's lines and chains; the last network of the prefix also takes its shared chains with it. */
export function renderRemove(networkId: string, filter: TableState, nat: TableState, traits: FamilyTraits, names: ChainNames): Batches {
  const chains = names.network(networkId);
  const br = bridgeOf(networkId, filter, names);
  const { user, forward, isolation1, isolation2 } = names;
  const f = new BatchBuilder(filter);
  f.delete(`${forward} -o ${br} -j ${chains.filter}`).delete(`${forward} -i ${br} -j ${chains.filter}`);
  f.delete(`${isolation1} -i ${br} ! -o ${br} -j ${isolation2}`).delete(`${isolation2} -o ${br} -j DROP`);
  f.drop(chains.filter);
  const n = new BatchBuilder(nat);
  n.delete(`${names.dnat} -j ${chains.dnat}`).delete(`${names.postrouting} -j ${chains.masquerade}`);
  n.drop(chains.dnat).drop(chains.masquerade);

  const others = networksPresent(filter, names).filter((id) => id !== networkId.slice(0, 12));
  if (others.length === 0) {
    f.delete(`FORWARD -j ${forward}`).delete(`${forward} -j ${isolation1}`);
    f.drop(forward).drop(isolation1).drop(isolation2);
    // The admin's chain goes only while empty: rules someone put there are theirs to keep. Should
    // the state be stale, the kernel refuses to remove a chain with rules and the batch is redone
    // with the tables read afresh.
    if (chainRules(filter, user).length === 0) f.delete(`FORWARD -j ${user}`).dropIfEmpty(user);
    n.delete(preroutingHook(names)).delete(outputHook(names, traits)).delete(`POSTROUTING -j ${names.postrouting}`);
    n.drop(names.dnat).drop(names.postrouting);
  }
  return { filter: f.lines, nat: n.lines };
}
