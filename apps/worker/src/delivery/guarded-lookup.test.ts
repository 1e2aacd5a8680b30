import type { LookupAddress } from "node:dns";
import { AllowedNetworks, SsrfBlockedError } from "@hookbus/core/policy";
import { guardedLookup } from "./guarded-lookup.js";

type Resolver = NonNullable<Parameters<typeof guardedLookup>[1]>;
const answering =
  (...addresses: string[]): Resolver =>
  (_host, _options, callback) =>
    callback(
      null,
      addresses.map((address): LookupAddress => ({ address, family: address.includes(":") ? 6 : 4 })),
    );
const lookUp = (guard: ReturnType<typeof guardedLookup>, host: string, all = false) =>
  new Promise<unknown>((resolve) => guard(host, { all }, (error, address) => resolve(error ?? address)));

test("the lookup guard refuses a name that resolves to loopback, unless loopback is allowed", async () => {
  const blocked = await lookUp(guardedLookup(new AllowedNetworks()), "localhost");
  expect(blocked).toBeInstanceOf(SsrfBlockedError);
  expect((blocked as SsrfBlockedError).range).toMatch(/loopback/);
  expect(await lookUp(guardedLookup(AllowedNetworks.parse("127.0.0.0/8,::1/128")), "localhost")).toMatch(/^(127\.0\.0\.1|::1)$/);
});

test("the lookup guard refuses an answer whose first address is public and a later one loopback", async () => {
  const guard = guardedLookup(new AllowedNetworks(), answering("93.184.216.34", "127.0.0.1"));
  const blocked = await lookUp(guard, "rebind.example");
  expect(blocked).toBeInstanceOf(SsrfBlockedError);
  expect(blocked).toMatchObject({ address: "127.0.0.1", range: "127.0.0.0/8 (loopback)" });
  expect(
    await lookUp(guardedLookup(new AllowedNetworks(), answering("2606:4700:4700::1111", "::ffff:a9fe:a9fe")), "x.example", true),
  ).toBeInstanceOf(SsrfBlockedError);
  expect(await lookUp(guardedLookup(new AllowedNetworks(), answering("93.184.216.34", "8.8.8.8")), "ok.example")).toBe("93.184.216.34");
});

test("the lookup guard judges IPv6 answers by the same ranges, and lets allowed IPv6 networks through", async () => {
  for (const address of ["::1", "fd00::1", "fe80::1", "ff02::1", "2001:db8::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1"]) {
    expect([address, await lookUp(guardedLookup(new AllowedNetworks(), answering(address)), "v6.example")]).toEqual([
      address,
      expect.any(SsrfBlockedError),
    ]);
  }
  expect(await lookUp(guardedLookup(new AllowedNetworks(), answering("2606:4700:4700::1111")), "v6.example")).toBe("2606:4700:4700::1111");
  expect(await lookUp(guardedLookup(AllowedNetworks.parse("fd00::/8"), answering("fd00::1")), "v6.example")).toBe("fd00::1");
});
