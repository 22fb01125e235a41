// The "host" driver of Docker's predefined `host` network: the container shares the daemon
// host's network namespace, so there is nothing to create.
import { StatelessDriver } from '../null/null-driver';

export class HostDriver extends StatelessDriver {
  readonly type = 'host';
}
