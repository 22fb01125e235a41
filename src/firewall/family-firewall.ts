// The rules of one address family. It keeps the tables' state as netctl last committed it, so
// a change costs one iptables-restore whatever the table's size: reading the tables back with
// iptables-save before every change grows with the number of networks. The kernel is asked again
// when the cache cannot be trusted: after a refused batch (someone changed the tables behind
// netctl's back, say rules added to its USER chain, which then cannot be removed), the batch is
// rendered again against what is really there and retried once.
import type { ChainNames } from './chains';
import { FirewallError } from './errors';
import type { FamilyTraits } from './family';
import { applyBatches, type IptablesOptions, readTables, type Tables } from './iptables';
import { type Batches, networksPresent, renderApply, renderRemove } from './render';
import type { NetworkRules } from './spec';
import { applyLines } from './state';

export class FamilyFirewall {
  private cache: Tables | undefined;

  constructor(
    readonly traits: FamilyTraits,
    private readonly options: IptablesOptions,
    private readonly names: ChainNames,
  ) {}

  /** Forgets the cached state: the next change reads the tables first. */
  forget(): void {
    this.cache = undefined;
  }

  /** IDs (12 hex) of the networks that have rules of this prefix in this family. */
  async networks(): Promise<string[]> {
    return networksPresent((await this.tables()).filter, this.names);
  }

  /** Adds or refreshes a network's rules; on failure, a network that had none is left with none. */
  async apply(rules: NetworkRules): Promise<void> {
    const existed = (await this.tables()).filter.chains.has(this.names.network(rules.id).filter);
    try {
      await this.change((tables) => renderApply(rules, tables.filter, tables.nat, this.traits, this.names));
    } catch (error) {
      // The filter table commits before nat: a refused nat batch leaves the filter part in.
      if (!existed) await this.remove(rules.id).catch(() => undefined);
      throw error;
    }
  }

  async remove(networkId: string): Promise<void> {
    // Asked to remove what it does not know of: perhaps the cache is what is wrong.
    if (!(await this.networks()).includes(networkId.slice(0, 12))) this.forget();
    await this.change((tables) => renderRemove(networkId, tables.filter, tables.nat, this.traits, this.names));
  }

  private async tables(): Promise<Tables> {
    this.cache ??= await readTables(this.options, this.traits);
    return this.cache;
  }

  private async change(render: (tables: Tables) => Batches): Promise<void> {
    const cached = this.cache !== undefined;
    try {
      await this.commit(render(await this.tables()));
    } catch (error) {
      if (!(error instanceof FirewallError) || !cached) throw error;
      await this.commit(render(await this.tables()));
    }
  }

  private async commit(batches: Batches): Promise<void> {
    const before = await this.tables();
    try {
      await applyBatches(this.options, this.traits, batches);
    } catch (error) {
      this.forget();
      throw error;
    }
    this.cache = { filter: applyLines(before.filter, batches.filter), nat: applyLines(before.nat, batches.nat) };
  }
}
