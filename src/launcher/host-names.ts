// Names that end up in a container's /etc files and its kernel host name: checked, so that none
// can break a line of those files (a newline in a hostname would add lines to /etc/hosts).

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DOTTED = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** RFC 1123 labels (letters, digits, inner hyphens, 63 at most) joined by dots; 64 in all, the kernel's limit. */
export const isHostname = (name: string): boolean => name.length <= 64 && DOTTED.test(name);

/** A DNS search domain: labels as a hostname's, 253 in all, a final dot allowed; "." alone means none. */
export const isSearchDomain = (domain: string): boolean => domain === '.' || (domain.replace(/\.$/, '').length <= 253 && DOTTED.test(domain.replace(/\.$/, '')));

/** A resolv.conf option (ndots:2, rotate, edns0...): one word. */
export const isResolverOption = (option: string): boolean => /^[\x21-\x7e]+$/.test(option);
