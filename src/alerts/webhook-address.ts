import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where webhooks may not go unless ALERT_ALLOW_PRIVATE_NETWORKS: loopback, private (RFC 1918,
 * unique local), link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast,
 * reserved and documentation ranges. Otherwise a rule would let its owner reach the server's
 * own network, and read what is listening there from lastError and lastStatusCode.
 */
const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback, IPv4-compatible
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

/** The eight 16-bit words of an IPv6 address (which `isIP` accepted). */
function ipv6Words(address: string): number[] {
  let text = address.split('%')[0] as string;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const bytes = (dotted[1] as string).split('.').map(Number) as [number, number, number, number];
    tail.push((bytes[0] << 8) | bytes[1], (bytes[2] << 8) | bytes[3]);
    text = text.slice(0, -(dotted[1] as string).length);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const words = (part: string) => (part === '' ? [] : part.split(':').map((word) => parseInt(word, 16)));
  const front = words(head);
  const back = rest === undefined ? [] : words(rest);
  const body = rest === undefined ? front : [...front, ...new Array<number>(8 - tail.length - front.length - back.length).fill(0), ...back];
  return [...body.slice(0, 8 - tail.length), ...tail];
}

/** The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), which is what it reaches. */
function embeddedIpv4(words: readonly number[]): string | undefined {
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  const zero = (from: number, to: number) => words.slice(from, to).every((word) => word === 0);
  if (zero(0, 5) && words[5] === 0xffff) return v4(words[6] as number, words[7] as number);
  if (words[0] === 0x64 && words[1] === 0xff9b && zero(2, 6)) return v4(words[6] as number, words[7] as number);
  if (words[0] === 0x2002) return v4(words[1] as number, words[2] as number);
  return undefined;
}

/** Whether an IP address is on the public internet (false for anything that is not an address). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !BLOCKED.check(address, 'ipv4');
  if (family !== 6) return false;
  const words = ipv6Words(address);
  const inner = embeddedIpv4(words);
  if (inner !== undefined) return !BLOCKED.check(inner, 'ipv4');
  return !BLOCKED.check(words.map((word) => word.toString(16)).join(':'), 'ipv6');
}

/** A webhook refused for where it points; the message is safe to show the rule's owner. */
export class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
  readonly code = 'EREFUSEDADDRESS';
  constructor(host: string, address: string) {
    super(`refused: ${host} is a private, loopback or link-local address (${address}); ALERT_ALLOW_PRIVATE_NETWORKS allows it`);
  }
}

/** The host of a URL as DNS or an address parser wants it (IPv6 without brackets). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Resolves a host and checks every address it has (a host with one private address among public
 * ones is refused too: the connection could pick that one). Answers the addresses.
 */
export async function publicAddresses(host: string): Promise<LookupAddress[]> {
  if (isIP(host) !== 0) {
    if (!isPublicAddress(host)) throw new RefusedAddressError(host, host);
    return [{ address: host, family: isIP(host) }];
  }
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, found) => (error === null ? resolve(found) : reject(error))),
  );
  const refused = addresses.find((entry) => !isPublicAddress(entry.address));
  if (refused !== undefined) throw new RefusedAddressError(host, refused.address);
  return addresses;
}

/**
 * A `lookup` for http.request that connects only to the public addresses it just checked: the
 * address checked is the address used, so a DNS answer that changes between a check and the
 * connection (DNS rebinding) cannot smuggle a private address in.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  publicAddresses(hostname).then(
    (addresses) => {
      const wanted =
        options.family === 4 || options.family === 6 ? addresses.filter((entry) => entry.family === options.family) : addresses;
      if (wanted.length === 0) {
        callback(Object.assign(new Error(`${hostname} has no address of family ${String(options.family)}`), { code: 'ENOTFOUND' }), '', 0);
      } else if ((options as LookupAllOptions).all === true) {
        (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, wanted);
      } else {
        const [first] = wanted as [LookupAddress];
        (callback as (error: null, address: string, family: number) => void)(null, first.address, first.family);
      }
    },
    (error: NodeJS.ErrnoException) => callback(error, '', 0),
  );
};
