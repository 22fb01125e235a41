// A simulated cluster with network tables on every member (see simulation.ts): virtual time,
// seeded, with helpers to ask what each member holds.
import { NetworkTables, type ClusterNodeEvent, type NetworkTablesOptions, type TableWatchEvent } from '../../src/cluster/network-tables';
import { seededRandom } from '../../src/cluster/random';
import { Simulation, type SimulatedMember } from './simulation';

export interface TableMember {
  node: SimulatedMember;
  tables: NetworkTables;
  tableEvents: TableWatchEvent[];
  nodeEvents: ClusterNodeEvent[];
}

export type TableOptions = Partial<Omit<NetworkTablesOptions, 'membership'>>;

export class TableSimulation {
  readonly sim: Simulation;
  readonly members: TableMember[] = [];

  constructor(seed: number) {
    this.sim = new Simulation(seed);
  }

  /** Starts `count` members, joins them and waits until all see all alive, then starts their tables. */
  async start(count: number, options: TableOptions = {}): Promise<void> {
    await this.sim.start(count);
    if ((await this.sim.runUntil(() => this.sim.converged(), 60_000)) === undefined) throw new Error('membership did not converge');
    for (const node of this.sim.nodes) this.attach(node, options);
  }

  attach(node: SimulatedMember, options: TableOptions = {}): TableMember {
    const tables = new NetworkTables({ membership: node.member, clock: this.sim.clock, random: seededRandom(this.members.length + 7), ...options });
    const member: TableMember = { node, tables, tableEvents: [], nodeEvents: [] };
    tables.onTableEvent((event) => member.tableEvents.push(event));
    tables.onNodeEvent((event) => member.nodeEvents.push(event));
    tables.start();
    this.members[this.sim.nodes.indexOf(node)] = member;
    return member;
  }

  running(): TableMember[] {
    return this.members.filter((m) => m.node.running);
  }

  async kill(member: TableMember): Promise<void> {
    member.tables.stop();
    await this.sim.kill(member.node);
  }

  /** Every running member sees exactly `expected` as the members of `network`. */
  networkKnown(network: string, expected: TableMember[]): boolean {
    const names = expected.map((m) => m.node.member.name).sort();
    return this.running().every((m) => JSON.stringify(m.tables.nodesOf(network)) === JSON.stringify(names));
  }

  /** key=value@owner of a table, sorted: equal strings mean equal views. */
  view(member: TableMember, network: string, table: string): string {
    return member.tables
      .entries(network, table)
      .map((e) => `${e.key}=${e.value.toString()}@${e.owner}`)
      .sort()
      .join(',');
  }

  async shutdown(): Promise<void> {
    for (const member of this.running()) member.tables.stop();
    await this.sim.shutdown();
  }
}
