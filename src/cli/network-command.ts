// `netctl network ...`: Docker's `docker network` commands, flags and output, as a client of the
// daemon's API.
import { DaemonError } from '../api/client';
import { UsageError } from './args';
import { atLeastOne, bool, exactly, execute, filtersQuery, type Io, list, stdio, str, type Subcommand } from './command';
import { inspectJson, renderTemplate, table } from './format';
import { ipamConfigs } from './ipam-flags';

interface NetworkJson {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  [field: string]: unknown;
}


/** KEY=VALUE flags into a map; a bare KEY maps to "" as Docker does for labels. */
function keyValues(values: string[], flag: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const key = eq === -1 ? value : value.slice(0, eq);
    if (key === '') throw new UsageError(`invalid ${flag} "${value}": use KEY=VALUE`);
    map[key] = eq === -1 ? '' : value.slice(eq + 1);
  }
  return map;
}


const SUBCOMMANDS: Record<string, Subcommand> = {
  create: {
    usage: 'netctl network create [OPTIONS] NETWORK',
    summary: 'Create a network',
    flags: [
      { name: 'driver', short: 'd', type: 'string', description: 'driver to manage the network', defaultText: 'bridge' },
      { name: 'subnet', type: 'list', description: 'subnet in CIDR format (repeatable)' },
      { name: 'gateway', type: 'list', description: 'gateway for a subnet (repeatable)' },
      { name: 'ip-range', type: 'list', description: 'allocate container addresses from a sub-range (repeatable)' },
      { name: 'aux-address', type: 'list', description: 'reserved address NAME=IP (repeatable)' },
      { name: 'ipam-driver', type: 'string', description: 'IP address management driver', defaultText: 'default' },
      { name: 'ipam-opt', type: 'list', description: 'IPAM driver option KEY=VALUE (repeatable)' },
      { name: 'ipv6', type: 'boolean', description: 'enable IPv6 (give an IPv6 --subnet)' },
      { name: 'internal', type: 'boolean', description: 'no traffic to or from outside the network' },
      { name: 'attachable', type: 'boolean', description: 'allow manual container attachment' },
      { name: 'opt', short: 'o', type: 'list', description: 'driver option KEY=VALUE (repeatable)' },
      { name: 'label', type: 'list', description: 'network label KEY=VALUE (repeatable)' },
    ],
    async run(args, client, io) {
      const [name] = exactly(args, 1, this.usage);
      const config = ipamConfigs(list(args, 'subnet'), list(args, 'gateway'), list(args, 'ip-range'), list(args, 'aux-address'));
      const reply = await client.post<{ Id: string }>('/networks/create', {
        Name: name,
        Driver: str(args, 'driver') ?? 'bridge',
        EnableIPv6: bool(args, 'ipv6'),
        Internal: bool(args, 'internal'),
        Attachable: bool(args, 'attachable'),
        IPAM: { Driver: str(args, 'ipam-driver') ?? 'default', Config: config, Options: keyValues(list(args, 'ipam-opt'), '--ipam-opt') },
        Options: keyValues(list(args, 'opt'), '--opt'),
        Labels: keyValues(list(args, 'label'), '--label'),
      });
      io.out(`${reply.Id}\n`);
      return 0;
    },
  },

  ls: {
    usage: 'netctl network ls [OPTIONS]',
    summary: 'List networks',
    flags: [
      { name: 'quiet', short: 'q', type: 'boolean', description: 'only display network IDs' },
      { name: 'no-trunc', type: 'boolean', description: 'do not truncate the output' },
      { name: 'filter', short: 'f', type: 'list', description: 'filter output, e.g. driver=bridge (repeatable)' },
      { name: 'format', type: 'string', description: '"table", "json" or a template such as "{{.Name}}"', defaultText: 'table' },
    ],
    async run(args, client, io) {
      if (args.positionals.length > 0) throw new UsageError(`"netctl network ls" accepts no arguments.\nUsage:  ${this.usage}`);
      const networks = (await client.get<NetworkJson[]>(`/networks${filtersQuery(list(args, 'filter'))}`)).sort((a, b) => a.Name.localeCompare(b.Name));
      const id = (n: NetworkJson): string => (bool(args, 'no-trunc') ? n.Id : n.Id.slice(0, 12));
      const format = str(args, 'format') ?? 'table';
      if (bool(args, 'quiet')) io.out(networks.map((n) => `${id(n)}\n`).join(''));
      else if (format === 'table') io.out(table(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], networks.map((n) => [id(n), n.Name, n.Driver, n.Scope])));
      else if (format === 'json') io.out(networks.map((n) => `${JSON.stringify(summary(n, id(n)))}\n`).join(''));
      else io.out(networks.map((n) => `${renderTemplate(format, summary(n, id(n)))}\n`).join(''));
      return 0;
    },
  },

  inspect: {
    usage: 'netctl network inspect [OPTIONS] NETWORK [NETWORK...]',
    summary: 'Display detailed information on one or more networks',
    flags: [{ name: 'format', short: 'f', type: 'string', description: '"json" or a template such as "{{.IPAM.Driver}}"' }],
    async run(args, client, io) {
      const found: NetworkJson[] = [];
      let failed = false;
      for (const ref of atLeastOne(args, this.usage)) {
        try {
          found.push(await client.get<NetworkJson>(`/networks/${encodeURIComponent(ref)}`));
        } catch (error) {
          if (!(error instanceof DaemonError) || error.status !== 404) throw error;
          io.err(`Error: No such network: ${ref}\n`);
          failed = true;
        }
      }
      const format = str(args, 'format');
      if (format === undefined || format === 'json') {
        if (found.length > 0 || !failed) io.out(format === 'json' ? found.map((n) => `${JSON.stringify(n)}\n`).join('') : inspectJson(found));
      } else io.out(found.map((n) => `${renderTemplate(format, n)}\n`).join(''));
      return failed ? 1 : 0;
    },
  },

  rm: {
    usage: 'netctl network rm NETWORK [NETWORK...]',
    summary: 'Remove one or more networks',
    flags: [],
    async run(args, client, io) {
      let failed = false;
      for (const ref of atLeastOne(args, this.usage)) {
        try {
          await client.delete(`/networks/${encodeURIComponent(ref)}`);
          io.out(`${ref}\n`);
        } catch (error) {
          if (!(error instanceof DaemonError)) throw error;
          io.err(`Error response from daemon: ${error.message}\n`);
          failed = true;
        }
      }
      return failed ? 1 : 0;
    },
  },

  connect: {
    usage: 'netctl network connect [OPTIONS] NETWORK CONTAINER',
    summary: 'Connect a container to a network',
    flags: [
      { name: 'ip', type: 'string', description: 'IPv4 address' },
      { name: 'ip6', type: 'string', description: 'IPv6 address' },
      { name: 'alias', type: 'list', description: 'network-scoped alias for the container (repeatable)' },
    ],
    async run(args, client) {
      const [network, container] = exactly(args, 2, this.usage);
      const ip = str(args, 'ip');
      const ip6 = str(args, 'ip6');
      await client.post(`/networks/${encodeURIComponent(network!)}/connect`, {
        Container: container,
        EndpointConfig: {
          ...(ip !== undefined || ip6 !== undefined ? { IPAMConfig: { ...(ip !== undefined ? { IPv4Address: ip } : {}), ...(ip6 !== undefined ? { IPv6Address: ip6 } : {}) } } : {}),
          Aliases: list(args, 'alias'),
        },
      });
      return 0;
    },
  },

  disconnect: {
    usage: 'netctl network disconnect [OPTIONS] NETWORK CONTAINER',
    summary: 'Disconnect a container from a network',
    flags: [{ name: 'force', short: 'f', type: 'boolean', description: 'force the container to disconnect from a network' }],
    async run(args, client) {
      const [network, container] = exactly(args, 2, this.usage);
      await client.post(`/networks/${encodeURIComponent(network!)}/disconnect`, { Container: container, Force: bool(args, 'force') });
      return 0;
    },
  },

  prune: {
    usage: 'netctl network prune [OPTIONS]',
    summary: 'Remove all unused networks',
    flags: [
      { name: 'force', short: 'f', type: 'boolean', description: 'do not prompt for confirmation' },
      { name: 'filter', type: 'list', description: 'filter, e.g. until=24h or label=KEY (repeatable)' },
    ],
    async run(args, client, io) {
      if (!bool(args, 'force')) {
        const answer = await io.ask('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
        if (!/^y(es)?$/i.test(answer.trim())) return 0;
      }
      const reply = await client.post<{ NetworksDeleted: string[] | null }>(`/networks/prune${filtersQuery(list(args, 'filter'))}`);
      const deleted = reply.NetworksDeleted ?? [];
      if (deleted.length > 0) io.out(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}`);
      return 0;
    },
  },
};
SUBCOMMANDS['remove'] = SUBCOMMANDS['rm']!;
SUBCOMMANDS['list'] = SUBCOMMANDS['ls']!;

/** What `ls --format` sees: Docker's summary fields. */
function summary(network: NetworkJson, id: string): Record<string, unknown> {
  const labels = (network['Labels'] as Record<string, string> | null) ?? {};
  return {
    ID: id,
    Name: network.Name,
    Driver: network.Driver,
    Scope: network.Scope,
    IPv6: network['EnableIPv6'],
    Internal: network['Internal'],
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    CreatedAt: network['Created'],
  };
}

const NETWORK_HELP = `Usage:  netctl network COMMAND

Manage networks

Commands:
${Object.entries(SUBCOMMANDS)
  .filter(([name]) => name !== 'remove' && name !== 'list')
  .map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`)
  .join('\n')}

Run 'netctl network COMMAND --help' for more information on a command.
`;

export async function runNetwork(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === 'help') {
    io.out(NETWORK_HELP);
    return name === undefined ? 1 : 0;
  }
  const subcommand = SUBCOMMANDS[name];
  if (!subcommand) throw new UsageError(`unknown command "network ${name}"\n\n${NETWORK_HELP}`);
  return execute(subcommand, `network ${name}`, rest, io);
}
