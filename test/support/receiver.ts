import http from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "./harness.js";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What the receiver answers to its n-th request (0-based); `hang` never answers. */
export type Reply = { status: number; body?: string; delayMs?: number; headers?: Record<string, string> } | "hang";

/** A real HTTP receiver on 127.0.0.1 (or ::1) that records every request and answers as told. */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests received and not yet answered or abandoned by the caller, now and at the most. */
  inFlight = 0;
  maxInFlight = 0;
  private readonly server: http.Server;

  private constructor(private reply: (request: ReceivedRequest, index: number) => Reply) {
    this.server = http.createServer((request, response) => {
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      response.on("close", () => this.inFlight--);
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const received: ReceivedRequest = {
          method: request.method ?? "",
          path: request.url ?? "/",
          headers: request.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          at: Date.now(),
        };
        const index = this.requests.push(received) - 1;
        const answer = this.reply(received, index);
        if (answer === "hang") return;
        const send = () => {
          response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
          response.end(answer.body ?? JSON.stringify({ received: true }));
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
  }

  static async start(reply: (request: ReceivedRequest, index: number) => Reply = () => ({ status: 200 })): Promise<TestReceiver> {
    return TestReceiver.startOn(0, reply);
  }

  /** On a given port (to bring back a receiver that was stopped) or loopback address. */
  static async startOn(
    port: number,
    reply: (request: ReceivedRequest, index: number) => Reply = () => ({ status: 200 }),
    host: "127.0.0.1" | "::1" = "127.0.0.1",
  ): Promise<TestReceiver> {
    const receiver = new TestReceiver(reply);
    await new Promise<void>((resolve) => receiver.server.listen(port, host, resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const { address, family } = this.server.address() as AddressInfo;
    return `http://${family === "IPv6" ? `[${address}]` : address}:${this.port}/hook`;
  }

  answer(reply: (request: ReceivedRequest, index: number) => Reply): void {
    this.reply = reply;
  }

  async waitForRequests(count: number, timeoutMs = 15_000): Promise<ReceivedRequest[]> {
    return waitFor(
      () => (this.requests.length >= count ? this.requests.slice(0, count) : undefined),
      `${count} requests at the receiver`,
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** The receivers a test starts, stopped together when it ends. */
export class ReceiverPool {
  private readonly running: TestReceiver[] = [];

  readonly start = async (reply?: (request: ReceivedRequest, index: number) => Reply): Promise<TestReceiver> => {
    const receiver = await TestReceiver.start(reply);
    this.running.push(receiver);
    return receiver;
  };

  async stopAll(): Promise<void> {
    await Promise.all(this.running.splice(0).map((r) => r.stop()));
  }
}
