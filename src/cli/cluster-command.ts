// `netctl cluster ...`: this daemon's view of the cluster (info, members) and its gossip key ring,
// as a client of the daemon's /cluster routes.
import fs from 'node:fs';
import { ClusterConfigError, parseGossipKey } from '../cluster/config';
import { type ParsedArgs, UsageError } from './args';
import { exactly, execute, type Io, stdio, str, type Subcommand } from './command';
import { renderTemplate, table } from './format';

export interface InfoJson {
  NodeName: string;
  Address: string;
  Encryption: boolean;
  Keys: { Count: number; Primary: string | null };
  Members: { Total: number; Alive: number };
  DroppedPackets: Record<string, number>;
  Suspicions: number;
  Traffic: { PacketsSent: number; PacketsReceived: number; Streams: number; BytesSent: number; BytesReceived: number };
  Store: { Endpoints: string[]; Connected: boolean };
  IgnoredEntries: number;
}

interface MemberJson {
  Name: string;
  Address: string;
  State: string;
  Incarnation: number;
  Networks: string[];
}

interface KeyJson {
  ID: string;
  Primary: boolean;
}

const FORMAT_FLAG = { name: 'format', type: 'string', description: '"table", "json" or a template such as "{{.Name}}"', defaultText: 'table' } as const;

function noArguments(args: ParsedArgs, usage: string): void {
  if (args.positionals.length > 0) throw new UsageError(`"${usage.split(' [')[0]}" accepts no arguments.\nUsage:  ${usage}`);
}

/** Rows as a table, JSON lines, or a template per row. */
function listOutput<T>(args: ParsedArgs, rows: T[], headers: string[], cells: (row: T) => string[]): string {
  const format = str(args, 'format') ?? 'table';
  if (format === 'table') return table(headers, rows.map(cells));
  if (format === 'json') return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  return rows.map((row) => `${renderTemplate(format, row)}\n`).join('');
}

export function infoText(info: InfoJson): string {
  const drops = Object.entries(info.DroppedPackets)
    .map(([reason, count]) => `${reason.toLowerCase()} ${count}`)
    .join(', ');
  const lines = [
    ['Node name', info.NodeName],
    ['Address', info.Address],
    ['Encryption', info.Encryption ? `on (${info.Keys.Count} key${info.Keys.Count === 1 ? '' : 's'}, primary ${info.Keys.Primary})` : 'off (gossip is unencrypted)'],
    ['Members', `${info.Members.Total} (${info.Members.Alive} alive)`],
    ['Dropped packets', drops],
    ['Suspicions', String(info.Suspicions)],
    ['Gossip traffic', `sent ${info.Traffic.PacketsSent} packets / ${info.Traffic.BytesSent} B, received ${info.Traffic.PacketsReceived} packets / ${info.Traffic.BytesReceived} B, ${info.Traffic.Streams} push-pull streams`],
    ['Cluster store', `${info.Store.Endpoints.join(', ')} (${info.Store.Connected ? 'connected' : 'not connected'})`],
    ['Ignored entries', `${info.IgnoredEntries} (gossip entries naming a VTEP outside the cluster)`],
  ];
  return lines.map(([label, value]) => `${`${label}:`.padEnd(17)}${value}\n`).join('');
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  info: {
    usage: 'netctl cluster info [OPTIONS]',
    summary: "Display this daemon's view of the cluster",
    flags: [{ name: 'format', type: 'string', description: '"json" or a template such as "{{.NodeName}}"' }],
    async run(args, client, io) {
      noArguments(args, this.usage);
      const info = await client.get<InfoJson>('/cluster');
      const format = str(args, 'format');
      io.out(format === undefined ? infoText(info) : format === 'json' ? `${JSON.stringify(info)}\n` : `${renderTemplate(format, info)}\n`);
      return 0;
    },
  },

  members: {
    usage: 'netctl cluster members [OPTIONS]',
    summary: 'List the members of the cluster as this daemon sees them',
    flags: [FORMAT_FLAG],
    async run(args, client, io) {
      noArguments(args, this.usage);
      const members = await client.get<MemberJson[]>('/cluster/members');
      io.out(listOutput(args, members, ['NAME', 'ADDRESS', 'STATE', 'INCARNATION', 'NETWORKS'], (m) => [m.Name, m.Address, m.State, String(m.Incarnation), m.Networks.map((n) => n.slice(0, 12)).join(',')]));
      return 0;
    },
  },
};

const KEY_SUBCOMMANDS: Record<string, Subcommand> = {
  ls: {
    usage: 'netctl cluster key ls [OPTIONS]',
    summary: 'List the keys of the gossip key ring (by id; keys are never shown)',
    flags: [FORMAT_FLAG],
    async run(args, client, io) {
      noArguments(args, this.usage);
      const keys = await client.get<KeyJson[]>('/cluster/keys');
      io.out(listOutput(args, keys, ['ID', 'PRIMARY'], (k) => [k.ID, k.Primary ? 'yes' : '']));
      return 0;
    },
  },

  add: {
    usage: 'netctl cluster key add FILE',
    summary: 'Add a key (32 bytes, raw or base64, from FILE) to the key ring for decryption',
    flags: [],
    async run(args, client, io) {
      const [file] = exactly(args, 1, this.usage);
      let key: Buffer;
      try {
        key = parseGossipKey(fs.readFileSync(file!), file!);
      } catch (error) {
        if (error instanceof ClusterConfigError) throw new UsageError(error.message);
        throw new UsageError(`cannot read key file ${file}: ${(error as Error).message}`);
      }
      const reply = await client.post<{ ID: string }>('/cluster/keys', { Key: key.toString('base64') });
      io.out(`${reply.ID}\n`);
      return 0;
    },
  },

  use: {
    usage: 'netctl cluster key use ID',
    summary: 'Make a key of the ring the one that encrypts gossip',
    flags: [],
    async run(args, client, io) {
      const [id] = exactly(args, 1, this.usage);
      await client.post('/cluster/keys/use', { ID: id });
      io.out(`${id}\n`);
      return 0;
    },
  },

  rm: {
    usage: 'netctl cluster key rm ID',
    summary: 'Remove a key that is not the primary from the key ring',
    flags: [],
    async run(args, client, io) {
      const [id] = exactly(args, 1, this.usage);
      await client.delete(`/cluster/keys/${encodeURIComponent(id!)}`);
      io.out(`${id}\n`);
      return 0;
    },
  },
};

const helpOf = (usage: string, summary: string, commands: Record<string, { summary: string }>): string => `Usage:  ${usage}

${summary}

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`)
  .join('\n')}
`;

const CLUSTER_HELP = helpOf('netctl cluster COMMAND', 'Inspect the cluster and manage its gossip keys', { ...SUBCOMMANDS, key: { summary: 'Manage the gossip key ring (ls, add, use, rm)' } });
const KEY_HELP = helpOf('netctl cluster key COMMAND', "Manage this daemon's gossip key ring; rotate by adding the new key on every daemon, then using it on every daemon, then removing the old one", KEY_SUBCOMMANDS);

async function dispatch(argv: string[], commands: Record<string, Subcommand>, help: string, prefix: string, io: Io, nested?: (rest: string[]) => Promise<number>): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === 'help') {
    io.out(help);
    return name === undefined ? 1 : 0;
  }
  if (name === 'key' && nested) return nested(rest);
  const subcommand = commands[name];
  if (!subcommand) throw new UsageError(`unknown command "${prefix} ${name}"\n\n${help}`);
  return execute(subcommand, `${prefix} ${name}`, rest, io);
}

export function runCluster(argv: string[], io: Io = stdio): Promise<number> {
  return dispatch(argv, SUBCOMMANDS, CLUSTER_HELP, 'cluster', io, (rest) => dispatch(rest, KEY_SUBCOMMANDS, KEY_HELP, 'cluster key', io));
}
