// Lookups and deletes of links where "already gone" is an answer, not an error.
import { type Link, LinkNotFoundError, type NetlinkHandle } from '../netlink';

export const isGone = (error: unknown): boolean => error instanceof LinkNotFoundError || (error as { code?: string }).code === 'ENODEV';

/** For deletes: a link already gone is what was wanted. */
export const unlessGone = (error: unknown): void => {
  if (!isGone(error)) throw error;
};

/** The link of that name, or undefined when there is none. */
export async function findLink(netlink: NetlinkHandle, name: string): Promise<Link | undefined> {
  try {
    return await netlink.linkGet(name);
  } catch (error) {
    unlessGone(error);
    return undefined;
  }
}
