// netctl's command line: `netctl daemon` runs the daemon; every other command is a client of it.
// First, before anything else loads: see threadpool.ts.
import './threadpool';
import { UsageError } from './args';
import { runCluster } from './cluster-command';
import { CONTAINER_COMMANDS, containerCommandsHelp, runContainerCommand } from './container-command';
import { runDaemon } from './daemon-command';
import { ENGINE_COMMANDS, engineCommandsHelp, runEngineCommand } from './engine-command';
import { runNetwork } from './network-command';

const USAGE = (): string => `Usage:  netctl COMMAND

Container networking: networks, endpoints, sandboxes, IPAM and DNS.

Commands:
  daemon      Run the netctl daemon
  network     Manage networks
  cluster     Inspect the cluster and manage its gossip keys
${containerCommandsHelp()}
${engineCommandsHelp()}

Global options:
  -H, --host string   daemon socket to connect to (or NETCTL_HOST; default unix:///run/netctl/netctl.sock)

Run 'netctl COMMAND --help' for more information on a command.
`;

/** Global `-H/--host` before the command, as `docker -H ... network ls`. */
function takeGlobalHost(argv: string[]): string[] {
  const [first, second] = argv;
  if (first === '-H' || first === '--host') {
    if (second === undefined) throw new UsageError(`flag needs an argument: ${first}`);
    process.env['NETCTL_HOST'] = second;
    return argv.slice(2);
  }
  if (first?.startsWith('--host=')) {
    process.env['NETCTL_HOST'] = first.slice('--host='.length);
    return argv.slice(1);
  }
  return argv;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = takeGlobalHost(argv);
  switch (command) {
    case 'daemon':
      return runDaemon(rest);
    case 'network':
      return runNetwork(rest);
    case 'cluster':
      return runCluster(rest);
    case 'container':
      // Docker's `container prune`; the other container commands are top-level here.
      if (rest[0] === 'prune') return runContainerCommand('prune', rest.slice(1));
      throw new UsageError(`unknown command "container ${rest[0] ?? ''}": netctl has "container prune"; the other container commands are top-level (netctl run, ps, rm ...)`);
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(USAGE());
      return command === undefined ? 1 : 0;
    default:
      if (CONTAINER_COMMANDS.includes(command)) return runContainerCommand(command, rest);
      if (ENGINE_COMMANDS.includes(command)) return runEngineCommand(command, rest);
      throw new UsageError(`unknown command "${command}"\n\n${USAGE()}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`netctl: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 125 : 1;
  },
);
