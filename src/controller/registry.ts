// Network drivers and IPAM drivers by name, registered at any time: the built-in ones when a
// controller opens, plugins and an embedder's own later. Docker's errors for a name that is
// unknown or taken.
import type { Driver } from '../drivers/driver';
import type { IpamDriver } from '../ipam';
import { ConflictError, NotFoundError } from './errors';

export class Registry {
  private readonly drivers = new Map<string, Driver>();
  private readonly ipams = new Map<string, IpamDriver>();

  addDriver(driver: Driver): void {
    if (this.drivers.has(driver.type)) throw new ConflictError(`driver already registered for type "${driver.type}"`);
    this.drivers.set(driver.type, driver);
  }

  addIpam(ipam: IpamDriver): void {
    if (this.ipams.has(ipam.name)) throw new ConflictError(`ipam driver "${ipam.name}" already registered`);
    this.ipams.set(ipam.name, ipam);
  }

  driver(type: string): Driver | undefined {
    return this.drivers.get(type);
  }

  ipam(name: string): IpamDriver | undefined {
    return this.ipams.get(name);
  }

  /** Docker's answer to a driver or IPAM driver that is not there: a plugin of that name was looked for. */
  requireDriver(type: string): Driver {
    const driver = this.drivers.get(type);
    if (!driver) throw new NotFoundError(`plugin "${type}" not found`);
    return driver;
  }

  requireIpam(name: string): IpamDriver {
    const ipam = this.ipams.get(name);
    if (!ipam) throw new NotFoundError(`plugin "${name}" not found`);
    return ipam;
  }

  allDrivers(): Driver[] {
    return [...this.drivers.values()];
  }

  allIpams(): IpamDriver[] {
    return [...this.ipams.values()];
  }
}
