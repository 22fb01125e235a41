// Test hosts on a shared underlay: a switch namespace holding a bridge, and hosts each linked to it
// by a veth (eth0 in the host, a port of the bridge in the switch) with an address of 10.77.0.0/24.
// Everything lives in namespaces the test made, so it is removed with them.
import { createTestNamespace, type TestNamespace } from './netns';

export interface UnderlayHost {
  ns: TestNamespace;
  /** Its eth0 address, e.g. 10.77.0.2. */
  address: string;
  /** Cuts (or restores) its link at the switch: the host stops hearing and being heard. */
  setLink(up: boolean): void;
}

export interface Underlay {
  /** A new host on the underlay, numbered from 1 (10.77.0.(n+1)). */
  addHost(): UnderlayHost;
}

type Teardown = { teardown(fn: () => void): void };

export function createUnderlay(t: Teardown): Underlay {
  const fabric = createTestNamespace(t, 'nctl-ul');
  fabric.run('ip', 'link', 'add', 'br0', 'type', 'bridge');
  fabric.run('ip', 'link', 'set', 'br0', 'up');
  let count = 0;
  return {
    addHost() {
      const index = ++count;
      const ns = createTestNamespace(t, 'nctl-uh');
      const port = `h${index}`;
      const address = `10.77.0.${index + 1}`;
      fabric.run('ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
      fabric.run('ip', 'link', 'set', port, 'master', 'br0', 'up');
      ns.run('ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ns.run('ip', 'link', 'set', 'eth0', 'up');
      ns.run('ip', 'link', 'set', 'lo', 'up');
      return { ns, address, setLink: (up) => void fabric.run('ip', 'link', 'set', port, up ? 'up' : 'down') };
    },
  };
}
