import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { blockedRangeOf, SsrfBlockedError, type AllowedNetworks } from "@hookbus/core/policy";

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type LookupAll = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A dns.lookup that refuses blocked addresses. It runs at connect time, on the address
 * actually dialled, so a hostname that resolves to a public address when the subscription
 * is made and to 127.0.0.1 later (DNS rebinding) is still caught. Every address of the answer
 * must be allowed, not only the first: the client may fall back to a later one.
 */
export function guardedLookup(allowed: AllowedNetworks, resolve: LookupAll = dnsLookup as LookupAll) {
  return function lookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
    resolve(hostname, { ...options, all: true }, (error, list) => {
      if (error) return callback(error, []);
      for (const { address } of list) {
        const range = blockedRangeOf(address, allowed);
        if (range) return callback(new SsrfBlockedError(address, range), []);
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    });
  };
}
