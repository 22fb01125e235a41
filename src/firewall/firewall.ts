// The firewall of one host: applies and removes the rules of bridge networks, one
// iptables-restore batch per table, rolling back the filter table when the nat batch fails.
import { applyBatch, type IptablesOptions, readTable } from './iptables';
import { networksPresent, renderApply, renderRemove, toRestoreInput } from './render';
import { type NetworkRules, validate } from './spec';

export class Firewall {
  constructor(private readonly options: IptablesOptions = {}) {}

  /** Adds or refreshes a network's rules; applying the same rules twice changes nothing. */
  async applyNetwork(rules: NetworkRules): Promise<void> {
    validate(rules);
    const [filter, nat] = await Promise.all([readTable(this.options, 'filter'), readTable(this.options, 'nat')]);
    const batches = renderApply(rules, filter, nat);
    await applyBatch(this.options, 'filter', toRestoreInput('filter', batches.filter));
    try {
      await applyBatch(this.options, 'nat', toRestoreInput('nat', batches.nat));
    } catch (error) {
      // Nothing half-done: take the network's filter rules out again, unless it was there before.
      if (!filter.chains.has(`NETCTL-N-${rules.id.slice(0, 12)}`)) await this.removeFilterOnly(rules.id);
      throw error;
    }
  }

  /** Removes a network's rules; the last network takes netctl's shared chains and hooks with it. */
  async removeNetwork(networkId: string): Promise<void> {
    const [filter, nat] = await Promise.all([readTable(this.options, 'filter'), readTable(this.options, 'nat')]);
    const batches = renderRemove(networkId, filter, nat);
    if (batches.nat.length > 0) await applyBatch(this.options, 'nat', toRestoreInput('nat', batches.nat));
    if (batches.filter.length > 0) await applyBatch(this.options, 'filter', toRestoreInput('filter', batches.filter));
  }

  /** At daemon start: (re)applies every network that should exist and removes the rest. */
  async reconcile(networks: NetworkRules[]): Promise<void> {
    for (const rules of networks) await this.applyNetwork(rules);
    const wanted = new Set(networks.map((n) => n.id.slice(0, 12)));
    for (const id of networksPresent(await readTable(this.options, 'filter'))) if (!wanted.has(id)) await this.removeNetwork(id);
  }

  private async removeFilterOnly(networkId: string): Promise<void> {
    const filter = await readTable(this.options, 'filter');
    const batch = renderRemove(networkId, filter, { chains: new Set(), rules: [] }).filter;
    if (batch.length > 0) await applyBatch(this.options, 'filter', toRestoreInput('filter', batch));
  }
}
