import http from "node:http";
import type { AddressInfo } from "node:net";
import { AllowedNetworks } from "@hookbus/core/policy";
import { WebhookHttpClient } from "./http-client.js";

// A real receiver on loopback, and resolvers that answer loopback addresses only: if the guard
// let a request through, it would reach this receiver and nothing else.
let server: http.Server;
let received = 0;
let port: number;

beforeAll(async () => {
  server = http.createServer((_request, response) => {
    received++;
    response.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

type Resolver = ConstructorParameters<typeof WebhookHttpClient>[1];
const answering =
  (...addresses: string[]): Resolver =>
  (_host, _options, callback) =>
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
    );

async function send(allowed: string, resolve: Resolver, host = "receiver.test") {
  const client = new WebhookHttpClient(AllowedNetworks.parse(allowed), resolve);
  try {
    return await client.send({ url: `http://${host}:${port}/hook`, headers: {}, body: "{}", timeoutMs: 2000 });
  } finally {
    client.close();
  }
}

test("a name resolving to an allowed address is called", async () => {
  const result = await send("127.0.0.1/32", answering("127.0.0.1"));
  expect(result).toMatchObject({ ok: true, statusCode: 200 });
  expect(received).toBe(1);
});

test("a name resolving to loopback is refused at dial time, naming the range, when loopback is not allowed", async () => {
  const result = await send("", answering("127.0.0.1"));
  expect(result).toMatchObject({ ok: false, error: "ssrf_blocked", message: expect.stringContaining("127.0.0.0/8 (loopback)") });
  expect(received).toBe(1);
});

test("an answer whose first address is allowed and a later one is not is refused whole", async () => {
  const result = await send("127.0.0.1/32", answering("127.0.0.1", "127.0.0.2"));
  expect(result).toMatchObject({ ok: false, error: "ssrf_blocked", message: expect.stringContaining("127.0.0.2") });
  expect(received).toBe(1);
});

test("a literal address in the URL is checked without any lookup", async () => {
  const noLookup: Resolver = () => {
    throw new Error("no lookup expected");
  };
  expect(await send("", noLookup, "127.0.0.1")).toMatchObject({ ok: false, error: "ssrf_blocked", durationMs: 0 });
  expect(await send("", noLookup, "0x7f.1")).toMatchObject({ ok: false, error: "ssrf_blocked" });
  expect(received).toBe(1);
});
