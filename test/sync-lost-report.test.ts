import http from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { startEmbeddedRedis, type EmbeddedRedis } from "@hookbus/dev-redis";
import { recordUpdated } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";

let redis: EmbeddedRedis | undefined;
let hookbus: TestHookbus | undefined;
let server: http.Server | undefined;

afterEach(async () => {
  await hookbus?.stop();
  server?.close();
  await redis?.stop();
});

/**
 * A receiver on 127.0.0.1 that answers after 1 s, and just before answering has Redis close
 * every pub/sub connection: the worker's report of that answer is published while the
 * ingest's subscriber connection is down.
 */
async function receiverThatCutsPubSub(admin: Redis): Promise<string> {
  server = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      setTimeout(async () => {
        await admin.client("KILL", "TYPE", "pubsub");
        response.writeHead(201, { "content-type": "application/json" });
        response.end('{"answer":"kept"}');
      }, 1000);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

test("a sync publisher gets the receiver's answer although the report carrying it was lost with the pub/sub connection", async () => {
  // A Redis of its own: killing the shared one's pub/sub connections would disturb other test files.
  redis = await startEmbeddedRedis();
  hookbus = await TestHookbus.start({ env: { REDIS_URL: redis.url } });
  const admin = new Redis(redis.url);
  try {
    const url = await receiverThatCutsPubSub(admin);
    await hookbus.createSubscription({ url, eventTypes: ["record.updated"], mode: "sync", timeoutMs: 10_000 });

    const started = performance.now();
    const publishing = hookbus.publish(recordUpdated());
    // Keep the subscriber down until the attempt is in the log, and so its report is gone:
    // a reconnect in between could otherwise still hear it.
    const attempted = waitFor(async () => {
      const [delivery] = (await hookbus!.api("GET", "/v1/deliveries")).body.items;
      return delivery?.status === "delivered";
    }, "the attempt to be logged");
    const cutting = setInterval(() => void admin.client("KILL", "TYPE", "pubsub").catch(() => undefined), 20);
    await attempted.finally(() => clearInterval(cutting));

    const response = await publishing;
    expect(response.status).toBe(200);
    expect(response.body.sync[0]).toMatchObject({ outcome: "delivered", statusCode: 201, body: '{"answer":"kept"}' });
    // Heard once the subscriber was back, not only when the 10 s timeout made the ingest look.
    expect(performance.now() - started).toBeLessThan(8_000);
  } finally {
    admin.disconnect();
  }
});
