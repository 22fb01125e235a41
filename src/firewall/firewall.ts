// The firewall of one controller on a host: each network's rules in iptables, and for dual-stack
// networks the same rules in ip6tables; both families are changed side by side. Changes are
// serialised: each family keeps the state of its tables between changes. Every chain and hook it
// makes carries the controller's chain prefix, and it reads, reconciles and removes only those.
import { DAEMON_OWNERSHIP } from '../kernel/ownership';
import { SerialQueue } from '../util/serial';
import { chainNames } from './chains';
import { IPV4, IPV6, familyOf, type FamilyTraits } from './family';
import { FamilyFirewall } from './family-firewall';
import type { IptablesOptions } from './iptables';
import { type NetworkRules, validate } from './spec';

/** The part of a network's rules one family carries; undefined when the network has no subnet there. */
function rulesOf(rules: NetworkRules, traits: FamilyTraits): NetworkRules | undefined {
  const subnets = rules.subnets.filter((s) => familyOf(s) === traits.family);
  if (subnets.length === 0) return undefined;
  const ports = rules.ports.filter((p) => familyOf(p.containerIp) === traits.family);
  return { ...rules, subnets, ports };
}

export interface FirewallOptions extends IptablesOptions {
  /** The controller's Ownership.chainPrefix: the daemon's (NETCTL-) when absent. */
  chainPrefix?: string;
}

export class Firewall {
  private readonly families: FamilyFirewall[];
  private readonly queue = new SerialQueue();

  /** Throws InvalidChainPrefixError for a prefix that could not name every chain. */
  constructor({ chainPrefix = DAEMON_OWNERSHIP.chainPrefix, ...options }: FirewallOptions = {}) {
    const names = chainNames(chainPrefix);
    this.families = [new FamilyFirewall(IPV4, options, names), new FamilyFirewall(IPV6, options, names)];
  }

  /** Adds or refreshes a network's rules; applying the same rules twice changes nothing. */
  async applyNetwork(rules: NetworkRules): Promise<void> {
    validate(rules);
    return this.queue.run(() => this.apply(rules));
  }

  /** Removes a network's rules; the last network takes the prefix's shared chains with it. */
  removeNetwork(networkId: string): Promise<void> {
    return this.queue.run(async () => {
      await Promise.all(this.families.map(async (family) => ((await family.networks()).includes(networkId.slice(0, 12)) ? family.remove(networkId) : undefined)));
    });
  }

  /**
   * At controller start: reads the tables afresh, (re)applies every network, and removes the
   * chains of its prefix's networks neither given nor kept (other prefixes' are not looked at).
   * One network's rules failing does not stop the others: resolves with the networks whose rules
   * could not be applied (their chains stay).
   */
  async reconcile(networks: NetworkRules[], keep: readonly string[] = []): Promise<Array<{ networkId: string; error: Error }>> {
    return this.queue.run(async () => {
      for (const family of this.families) family.forget();
      const failed: Array<{ networkId: string; error: Error }> = [];
      for (const rules of networks) {
        try {
          validate(rules);
          await this.apply(rules);
        } catch (error) {
          failed.push({ networkId: rules.id, error: error as Error });
        }
      }
      const wanted = new Set([...networks.map((n) => n.id), ...keep].map((id) => id.slice(0, 12)));
      for (const family of this.families) {
        for (const id of await family.networks()) if (!wanted.has(id)) await family.remove(id);
      }
      return failed;
    });
  }

  private async apply(rules: NetworkRules): Promise<void> {
    const id = rules.id.slice(0, 12);
    const existed = await Promise.all(this.families.map(async (family) => (await family.networks()).includes(id)));
    const results = await Promise.allSettled(
      this.families.map(async (family, i) => {
        const own = rulesOf(rules, family.traits);
        if (own) await family.apply(own);
        else if (existed[i]) await family.remove(rules.id);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) return;
    // Nothing half-done: a family that took the rules of a network new to it gives them back.
    await Promise.allSettled(this.families.map((family, i) => (results[i]!.status === 'fulfilled' && !existed[i] && rulesOf(rules, family.traits) ? family.remove(rules.id) : undefined)));
    throw failed.reason;
  }
}
