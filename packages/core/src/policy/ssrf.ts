import { BlockList, isIP } from "node:net";

/** Thrown when a webhook URL resolves to an address Hookbus must not call. */
export class SsrfBlockedError extends Error {
  override name = "SsrfBlockedError";
  readonly code = "ESSRFBLOCKED";
  constructor(
    readonly address: string,
    /** The blocked range, e.g. "127.0.0.0/8 (loopback)". */
    readonly range: string,
  ) {
    super(`address ${address} is in ${range}, which is blocked (allow it with HOOKBUS_ALLOWED_NETWORKS)`);
  }
}

/**
 * Every range a webhook may not reach unless allow-listed, most specific first so that the
 * refusal names the narrowest one. Any other IPv6 outside 2000::/3 (global unicast) is
 * blocked too. IPv4-mapped addresses (::ffff:a.b.c.d, also written in hex) match
 * the IPv4 entries, because BlockList compares them as the IPv4 address they carry.
 */
const BLOCKED_RANGES: readonly (readonly [cidr: string, label: string])[] = [
  ["0.0.0.0/8", "this network"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "carrier-grade NAT"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local, cloud metadata"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "IETF protocol assignments"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "6to4 relay"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved, broadcast"],
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["::/96", "IPv4-compatible"],
  ["64:ff9b::/96", "NAT64"],
  ["64:ff9b:1::/48", "local NAT64"],
  ["100::/64", "discard-only"],
  ["2001:db8::/32", "documentation"],
  ["2001::/23", "IETF protocol assignments, Teredo"],
  ["2002::/16", "6to4"],
  ["3fff::/20", "documentation"],
  ["fc00::/7", "unique local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"],
  ["ff00::/8", "multicast"],
];

/** The blocked ranges, each with a BlockList of its own so that a match can be named. */
const blockedRanges = BLOCKED_RANGES.map(([cidr, label]) => {
  const list = new BlockList();
  addCidr(list, cidr);
  return { name: `${cidr} (${label})`, list };
});

/** IPv6 that may be called: global unicast, and the IPv4-mapped form (its IPv4 address was checked above). */
const CALLABLE_V6 = new BlockList();
CALLABLE_V6.addSubnet("2000::", 3, "ipv6");
CALLABLE_V6.addSubnet("::ffff:0:0", 96, "ipv6");
const NOT_GLOBAL_UNICAST = "IPv6 outside 2000::/3 (not global unicast)";

function addCidr(list: BlockList, cidr: string): void {
  const [address = "", bits = ""] = cidr.split("/");
  const family = isIP(address);
  const prefix = Number(bits);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || !/^\d{1,3}$/.test(bits) || prefix > max) throw new Error(`"${cidr}" is not a CIDR such as 10.1.2.0/24 or fd00::/8`);
  list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
}

/**
 * The networks an operator lets webhooks reach although they are private or reserved
 * (HOOKBUS_ALLOWED_NETWORKS), e.g. "127.0.0.1/32" for a receiver on the same machine.
 */
export class AllowedNetworks {
  private readonly list = new BlockList();

  /** Throws on anything that is not an IPv4 or IPv6 CIDR. */
  constructor(readonly cidrs: readonly string[] = []) {
    for (const cidr of cidrs) addCidr(this.list, cidr);
  }

  /** Parses a comma-separated list such as "127.0.0.1/32, 10.1.2.0/24". */
  static parse(value: string): AllowedNetworks {
    return new AllowedNetworks(
      value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    );
  }

  includes(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? "ipv4" : "ipv6");
  }

  toString(): string {
    return this.cidrs.length ? this.cidrs.join(", ") : "none";
  }
}

/** The blocked range the address falls in, or undefined when it may be called. Anything not an IP is blocked. */
export function blockedRangeOf(address: string, allowed: AllowedNetworks = new AllowedNetworks()): string | undefined {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  if (allowed.includes(address)) return undefined;
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const range of blockedRanges) {
    if (range.list.check(address, type)) return range.name;
  }
  return family === 6 && !CALLABLE_V6.check(address, "ipv6") ? NOT_GLOBAL_UNICAST : undefined;
}

/** Names that resolve to loopback without asking DNS (RFC 6761). */
const LOOPBACK_NAMES = /(^|\.)localhost\.?$/i;

/**
 * The check made when a subscription is saved, before any lookup: the blocked range a URL's
 * literal IP or localhost name falls in, or undefined. Names are checked at every attempt.
 */
export function blockedRangeOfUrl(url: string, allowed: AllowedNetworks = new AllowedNetworks()): string | undefined {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (LOOPBACK_NAMES.test(host)) return blockedRangeOf("127.0.0.1", allowed) ?? blockedRangeOf("::1", allowed);
  return isIP(host) ? blockedRangeOf(host, allowed) : undefined;
}
