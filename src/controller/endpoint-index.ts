// The endpoints in memory, by ID and by sandbox: every DNS query asks for its sandbox's
// endpoints, and a scan of all of them would make each query cost more the more containers the
// host runs.
import type { EndpointRecord } from './endpoint-record';

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const byConnectOrder = (a: EndpointRecord, b: EndpointRecord): number => compare(a.created, b.created) || compare(a.id, b.id);

export class EndpointIndex {
  private readonly byId = new Map<string, EndpointRecord>();
  private readonly bySandbox = new Map<string, Set<EndpointRecord>>();

  get(id: string): EndpointRecord | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<EndpointRecord> {
    return this.byId.values();
  }

  track(endpoint: EndpointRecord): void {
    this.byId.set(endpoint.id, endpoint);
    let members = this.bySandbox.get(endpoint.sandboxId);
    if (!members) this.bySandbox.set(endpoint.sandboxId, (members = new Set()));
    members.add(endpoint);
  }

  untrack(endpoint: EndpointRecord): void {
    this.byId.delete(endpoint.id);
    const members = this.bySandbox.get(endpoint.sandboxId);
    members?.delete(endpoint);
    if (members?.size === 0) this.bySandbox.delete(endpoint.sandboxId);
  }

  /** Endpoints of a network, including those being connected right now. */
  ofNetwork(networkId: string): EndpointRecord[] {
    return [...this.byId.values()].filter((e) => e.networkId === networkId);
  }

  /** Endpoints of a sandbox in the order they were connected. */
  ofSandbox(sandboxId: string): EndpointRecord[] {
    return [...(this.bySandbox.get(sandboxId) ?? [])].sort(byConnectOrder);
  }
}
