// Names of the interfaces a sandbox gets: a driver's prefix ("eth" unless it says otherwise) and
// the lowest index free for that prefix. Pure.

export function nextInterfaceName(prefix: string, used: ReadonlySet<string>): string {
  let index = 0;
  while (used.has(`${prefix}${index}`)) index++;
  return `${prefix}${index}`;
}

/**
 * In a namespace netctl made, lo is 1 and the interfaces it adds are eth0, eth1...: ethN most
 * likely finds index N + 2 free (the kernel would pick the same for the first one). A guess:
 * the kernel's choice does when the index is taken.
 */
export function preferredIndex(ifname: string): number | undefined {
  const n = /^[A-Za-z_-]+(\d{1,4})$/.exec(ifname)?.[1];
  return n === undefined ? undefined : Number(n) + 2;
}
