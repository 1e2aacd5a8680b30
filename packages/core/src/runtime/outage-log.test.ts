import { Writable } from "node:stream";
import { createLogger } from "./logger.js";
import { OutageLog } from "./outage-log.js";

function collectingLogger() {
  const lines: { msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: createLogger("test", "info", destination), lines };
}

const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });

test("an outage's reconnect errors are logged once, whatever connection reports them", () => {
  const { logger, lines } = collectingLogger();
  const outages = new OutageLog(logger);
  for (let i = 0; i < 12; i++) outages.error(refused(), i % 2 ? "queue" : "subscriber");
  expect(lines.map((l) => l.msg)).toEqual(["redis unreachable: retrying; further errors are not logged until it is back"]);
});

test("an error that is not about reaching Redis is logged every time, even during an outage", () => {
  const { logger, lines } = collectingLogger();
  const outages = new OutageLog(logger);
  outages.error(refused(), "redis");
  outages.error(new Error("ERR Error running script (call to f_1a2b): @user_script:1: boom"), "worker deliver");
  outages.error(new Error("ERR Error running script (call to f_1a2b): @user_script:1: boom"), "worker deliver");
  expect(lines.map((l) => l.msg)).toEqual([
    "redis unreachable: retrying; further errors are not logged until it is back",
    "redis error",
    "redis error",
  ]);
});
