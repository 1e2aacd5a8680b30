import ipaddr from "ipaddr.js";
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";

/** Thrown when a webhook URL resolves to an address Hookbus must not call. */
export class SsrfBlockedError extends Error {
  override name = "SsrfBlockedError";
  readonly code = "ESSRFBLOCKED";
  constructor(readonly address: string) {
    super(`address ${address} is in a private or reserved range`);
  }
}

/** True for loopback, private, link-local (cloud metadata), multicast and other non-public ranges. */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() !== "unicast";
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A dns.lookup that refuses private addresses. It runs at connect time, on the address
 * actually dialled, so a hostname that resolves to a public address when the subscription
 * is made and to 127.0.0.1 later (DNS rebinding) is still caught.
 */
export function guardedLookup(allowPrivate: boolean) {
  return function lookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      const blocked = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (blocked) return callback(new SsrfBlockedError(blocked.address), []);
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    });
  };
}

/** The check made when a subscription is saved: a literal private IP is refused at once. */
export function urlTargetsPrivateAddress(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  return ipaddr.isValid(host) && isPrivateAddress(host);
}
