import { AllowedNetworks, blockedRangeOf, blockedRangeOfUrl, SsrfBlockedError } from "./ssrf.js";

test("every blocked range is named, from its first and its last address", () => {
  const cases: [string, string][] = [
    ["0.0.0.0", "0.0.0.0/8"],
    ["0.255.255.255", "0.0.0.0/8"],
    ["10.0.0.1", "10.0.0.0/8"],
    ["10.255.255.255", "10.0.0.0/8"],
    ["100.64.0.1", "100.64.0.0/10"],
    ["100.127.255.255", "100.64.0.0/10"],
    ["127.0.0.1", "127.0.0.0/8 (loopback)"],
    ["127.255.255.254", "127.0.0.0/8"],
    ["169.254.169.254", "169.254.0.0/16"],
    ["172.16.0.1", "172.16.0.0/12"],
    ["172.31.255.255", "172.16.0.0/12"],
    ["192.0.0.8", "192.0.0.0/24"],
    ["192.0.2.1", "192.0.2.0/24"],
    ["192.88.99.1", "192.88.99.0/24"],
    ["192.168.0.1", "192.168.0.0/16"],
    ["192.168.255.255", "192.168.0.0/16"],
    ["198.18.0.1", "198.18.0.0/15"],
    ["198.19.255.255", "198.18.0.0/15"],
    ["198.51.100.7", "198.51.100.0/24"],
    ["203.0.113.9", "203.0.113.0/24"],
    ["224.0.0.1", "224.0.0.0/4"],
    ["239.255.255.255", "224.0.0.0/4"],
    ["240.0.0.1", "240.0.0.0/4"],
    ["255.255.255.255", "240.0.0.0/4"],
    ["::", "::/128 (unspecified)"],
    ["::1", "::1/128 (loopback)"],
    ["64:ff9b::7f00:1", "64:ff9b::/96"],
    ["64:ff9b:1::1", "64:ff9b:1::/48"],
    ["100::1", "100::/64"],
    ["2001:db8::1", "2001:db8::/32"],
    ["2001::1", "2001::/23"],
    ["2002:7f00:1::", "2002::/16"],
    ["3fff::1", "3fff::/20"],
    ["fc00::1", "fc00::/7"],
    ["fdff:ffff::1", "fc00::/7"],
    ["fe80::1", "fe80::/10"],
    ["fec0::1", "fec0::/10"],
    ["ff02::1", "ff00::/8"],
    ["4000::1", "outside 2000::/3"],
    ["1::1", "outside 2000::/3"],
  ];
  for (const [address, range] of cases) expect([address, blockedRangeOf(address)]).toEqual([address, expect.stringContaining(range)]);
});

test("IPv4 inside IPv6, dotted or hex, mapped or compatible, is judged by the IPv4 address it carries", () => {
  for (const address of ["::ffff:127.0.0.1", "::ffff:7f00:1", "0:0:0:0:0:ffff:7f00:0001", "::ffff:a9fe:a9fe", "::ffff:10.0.0.1"]) {
    expect([address, blockedRangeOf(address)]).toEqual([
      address,
      expect.stringMatching(/^(127\.0\.0\.0\/8|169\.254\.0\.0\/16|10\.0\.0\.0\/8)/),
    ]);
  }
  // The IPv4-compatible form (::/96), deprecated and never a public receiver.
  for (const address of ["::7f00:1", "::127.0.0.1", "::a9fe:a9fe", "::808:808", "0::0:0a00:0001"]) {
    expect([address, blockedRangeOf(address)]).toEqual([address, expect.stringContaining("::/96 (IPv4-compatible)")]);
  }
  expect(blockedRangeOf("::ffff:808:808")).toBeUndefined();
});

test("public addresses pass; anything that is not an IP does not", () => {
  for (const address of ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::1"]) {
    expect([address, blockedRangeOf(address)]).toEqual([address, undefined]);
  }
  expect(blockedRangeOf("not-an-ip")).toBe("not an IP address");
  expect(blockedRangeOf("0x7f.1")).toBe("not an IP address");
});

test("the allow-list lets exactly its networks through, IPv4 and IPv6", () => {
  const allowed = AllowedNetworks.parse("127.0.0.1/32, 10.1.2.0/24,fd00:1::/64");
  expect(blockedRangeOf("127.0.0.1", allowed)).toBeUndefined();
  expect(blockedRangeOf("::ffff:127.0.0.1", allowed)).toBeUndefined();
  expect(blockedRangeOf("127.0.0.2", allowed)).toContain("127.0.0.0/8");
  expect(blockedRangeOf("10.1.2.200", allowed)).toBeUndefined();
  expect(blockedRangeOf("10.1.3.1", allowed)).toContain("10.0.0.0/8");
  expect(blockedRangeOf("fd00:1::5", allowed)).toBeUndefined();
  expect(blockedRangeOf("fd00:2::5", allowed)).toContain("fc00::/7");
  expect(blockedRangeOf("::1", allowed)).toContain("::1/128");
  expect(allowed.toString()).toBe("127.0.0.1/32, 10.1.2.0/24, fd00:1::/64");
  for (const bad of ["127.0.0.1", "10.0.0.0/33", "::/129", "localhost/8", "10.0.0.0/x"])
    expect(() => AllowedNetworks.parse(bad)).toThrow(/not a CIDR/);
});

test("URLs naming a blocked address or localhost are caught before any lookup", () => {
  expect(blockedRangeOfUrl("http://127.0.0.1:8080/x")).toBe("127.0.0.0/8 (loopback)");
  expect(blockedRangeOfUrl("http://[::1]/x")).toBe("::1/128 (loopback)");
  expect(blockedRangeOfUrl("http://[::ffff:7f00:1]/x")).toBe("127.0.0.0/8 (loopback)");
  expect(blockedRangeOfUrl("http://api.localhost/x")).toBe("127.0.0.0/8 (loopback)");
  expect(blockedRangeOfUrl("http://LOCALHOST./x")).toBe("127.0.0.0/8 (loopback)");
  // WHATWG URL parsing turns the shorthand and hex IPv4 forms into dotted quads.
  expect(blockedRangeOfUrl("http://0x7f.1/x")).toBe("127.0.0.0/8 (loopback)");
  expect(blockedRangeOfUrl("http://2130706433/x")).toBe("127.0.0.0/8 (loopback)");
  expect(blockedRangeOfUrl("https://hooks.example.com/x")).toBeUndefined();
  const loopback = AllowedNetworks.parse("127.0.0.0/8,::1/128");
  expect(blockedRangeOfUrl("http://127.0.0.1:8080/x", loopback)).toBeUndefined();
  expect(blockedRangeOfUrl("http://localhost:8080/x", loopback)).toBeUndefined();
  // localhost may resolve to either loopback address: both must be allowed.
  expect(blockedRangeOfUrl("http://localhost:8080/x", AllowedNetworks.parse("127.0.0.0/8"))).toBe("::1/128 (loopback)");
});

test("bracketed IPv6 URLs are judged like the addresses they name: every special range refused, global unicast taken", () => {
  const cases: [string, string | undefined][] = [
    ["http://[::1]:8080/x", "::1/128 (loopback)"],
    ["http://[::]/x", "::/128 (unspecified)"],
    ["http://[::ffff:10.0.0.1]/x", "10.0.0.0/8 (private)"],
    // IPv4-translated (::ffff:0:a.b.c.d) is no global unicast, whatever it carries.
    ["http://[::ffff:0:808:808]/x", "outside 2000::/3"],
    ["http://[64:ff9b::a9fe:a9fe]/x", "64:ff9b::/96 (NAT64)"],
    ["http://[fd12:3456::1]/x", "fc00::/7 (unique local)"],
    ["http://[fe80::1]/x", "fe80::/10 (link-local)"],
    ["http://[ff02::1]/x", "ff00::/8 (multicast)"],
    ["http://[2001:db8::1]/x", "2001:db8::/32 (documentation)"],
    ["http://[2002:c0a8:1::1]/x", "2002::/16 (6to4)"],
    ["https://[2606:4700:4700::1111]:8443/x", undefined],
    ["https://[2a00:1450:4001::1]/x", undefined],
  ];
  for (const [url, range] of cases)
    expect([url, blockedRangeOfUrl(url)]).toEqual([url, range === undefined ? undefined : expect.stringContaining(range)]);
  // The allow-list takes IPv6 networks, and lets through only those.
  const allowed = AllowedNetworks.parse("::1/128, fd12:3456::/32");
  expect(blockedRangeOfUrl("http://[::1]:8080/x", allowed)).toBeUndefined();
  expect(blockedRangeOfUrl("http://[fd12:3456:ffff::9]/x", allowed)).toBeUndefined();
  expect(blockedRangeOfUrl("http://[fd12:3457::1]/x", allowed)).toContain("fc00::/7");
  expect(blockedRangeOfUrl("http://[fe80::1]/x", allowed)).toContain("fe80::/10");
});
