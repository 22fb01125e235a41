// The "null" driver of Docker's predefined `none` network: a sandbox with loopback only. It has
// no kernel objects of its own and takes no addresses.
import { type Capability, type Driver, InvalidOptionError, type JoinInfo, type NetworkSpec } from '../driver';

/** Shared by drivers whose networks have nothing in the kernel: null and host. */
export abstract class StatelessDriver implements Driver {
  abstract readonly type: string;
  readonly capability: Capability = { dataScope: 'local', connectivityScope: 'local' };
  readonly usesIpam = false;

  validateOptions(options: Readonly<Record<string, string>>): void {
    const keys = Object.keys(options);
    if (keys.length > 0) throw new InvalidOptionError(`driver ${this.type} takes no options, got ${keys.join(', ')}`);
  }

  effectiveOptions(): Record<string, string> {
    return {};
  }

  async createNetwork(_spec: NetworkSpec): Promise<void> {}

  async deleteNetwork(_spec: NetworkSpec): Promise<void> {}

  /** No interface: the sandbox keeps loopback only (null), or is the host's own namespace (host). */
  async join(): Promise<JoinInfo> {
    return {};
  }

  async leave(): Promise<void> {}

  async restore(): Promise<string[]> {
    return [];
  }
}

export class NullDriver extends StatelessDriver {
  readonly type = 'null';
}
