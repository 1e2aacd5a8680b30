import { guardedLookup, isPrivateAddress, SsrfBlockedError, urlTargetsPrivateAddress } from "./ssrf.js";

test("loopback, private, link-local, metadata and mapped addresses are private; public ones are not", () => {
  for (const address of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "::1", "fc00::1", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1", "224.0.0.1", "not-an-ip"]) {
    expect([address, isPrivateAddress(address)]).toEqual([address, true]);
  }
  for (const address of ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"]) {
    expect([address, isPrivateAddress(address)]).toEqual([address, false]);
  }
});

test("URLs naming a private address or localhost are caught before any lookup", () => {
  expect(urlTargetsPrivateAddress("http://127.0.0.1:8080/x")).toBe(true);
  expect(urlTargetsPrivateAddress("http://[::1]/x")).toBe(true);
  expect(urlTargetsPrivateAddress("http://api.localhost/x")).toBe(true);
  expect(urlTargetsPrivateAddress("https://hooks.example.com/x")).toBe(false);
});

test("the lookup guard refuses a name that resolves to loopback, unless private networks are allowed", async () => {
  const lookup = (allow: boolean) =>
    new Promise<unknown>((resolve) => guardedLookup(allow)("localhost", {}, (error, address) => resolve(error ?? address)));
  expect(await lookup(false)).toBeInstanceOf(SsrfBlockedError);
  expect(await lookup(true)).toMatch(/^(127\.0\.0\.1|::1)$/);
});
