import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { surveySubmitted } from "./fixtures/events.js";
import { runCli, type CliResult } from "./support/cli.js";
import { TestHookbus } from "./support/harness.js";
import { TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
let receiver: TestReceiver;

beforeEach(async () => {
  hookbus = await TestHookbus.start();
  receiver = await TestReceiver.start(() => ({ status: 500, body: "receiver down" }));
});

afterEach(async () => {
  await hookbus.stop();
  await receiver.stop();
});

/** Runs `hookbus ARGS` with the test Hookbus's URL and admin key unless `env` says otherwise. */
function hookbusCli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  return runCli(args, { HOOKBUS_URL: hookbus.url, HOOKBUS_API_KEY: hookbus.config.adminKey, ...env }, stdin);
}

/** A subscription made through the CLI whose deliveries fail on their one and only attempt. */
async function oneAttemptSubscription(): Promise<string> {
  const created = await hookbusCli([
    "subscriptions",
    "create",
    "--url",
    receiver.url,
    "--event-types",
    "survey.submitted",
    "--retry-schedule",
    "",
    "--json",
  ]);
  expect(created).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(created.stdout).id;
}

/** Publishes `count` events and waits until each one's delivery is dead-lettered. */
async function deadLetteredDeliveries(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const published = await hookbus.publish(surveySubmitted());
    const [delivery] = await hookbus.deliveriesOf(published.body.id);
    await hookbus.deliveryWithStatus(delivery.id, "failed");
    ids.push(delivery.id);
  }
  return ids;
}

const webhookIds = (requests: TestReceiver["requests"]) => requests.map((request) => request.headers["webhook-id"]);

test("subscriptions create prints the new id and its secret, and subscriptions list --json shows it", async () => {
  const created = await hookbusCli(
    [
      "subscriptions",
      "create",
      "--url",
      receiver.url,
      "--event-types",
      "survey.submitted,record.created",
      "--description",
      "study A",
      "--header",
      "X-Team: research",
      "--username",
      "trialkit",
      "--password-stdin",
    ],
    {},
    "pw\n",
  );
  expect(created).toMatchObject({ code: 0, stderr: "keep the secret now: it is not shown again\n" });
  const id = /^created (sub_\S+)$/m.exec(created.stdout)?.[1];
  expect(id).toBeDefined();
  expect(created.stdout).toMatch(/^secret {2}whsec_[A-Za-z0-9+/=]{32,}$/m);

  const listed = await hookbusCli(["subscriptions", "list", "--json"]);
  expect(listed.code).toBe(0);
  const { items } = JSON.parse(listed.stdout);
  expect(items).toEqual([
    expect.objectContaining({
      id,
      url: receiver.url,
      eventTypes: ["survey.submitted", "record.created"],
      description: "study A",
      headers: { "X-Team": "********" },
      auth: { type: "basic", username: "trialkit" },
    }),
  ]);

  const table = await hookbusCli(["subscriptions", "list"]);
  expect(table.stdout).toContain(id);

  // update changes only what it is given: one filter list joins the others.
  expect((await hookbusCli(["subscriptions", "update", id!, "--filter-form-ids", "319"])).code).toBe(0);
  const updated = await hookbusCli(["subscriptions", "update", id!, "--filter-survey-names", "Daily Check-in", "--json"]);
  expect(JSON.parse(updated.stdout).filter).toEqual({ formIds: ["319"], surveyNames: ["Daily Check-in"] });

  const deleted = await hookbusCli(["subscriptions", "delete", id!]);
  expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${id}\n` });
  expect(JSON.parse((await hookbusCli(["subscriptions", "list", "--json"])).stdout).items).toEqual([]);
});

test("deliveries list --status failed --json shows the dead-lettered deliveries, and deliveries show their attempts", async () => {
  const subscriptionId = await oneAttemptSubscription();
  const failed = await deadLetteredDeliveries(2);

  const listed = await hookbusCli(["deliveries", "list", "--status", "failed", "--since", "1h", "--json"]);
  expect(listed.code).toBe(0);
  const page = JSON.parse(listed.stdout);
  expect(page.nextCursor).toBeNull();
  expect(page.items.map((d: { id: string }) => d.id).sort()).toEqual([...failed].sort());
  for (const delivery of page.items)
    expect(delivery).toMatchObject({ status: "failed", subscriptionId, eventType: "survey.submitted", attemptCount: 1 });

  const nothingYet = await hookbusCli(["deliveries", "list", "--status", "failed", "--until", "1h", "--json"]);
  expect(JSON.parse(nothingYet.stdout).items).toEqual([]);

  const table = await hookbusCli(["deliveries", "list", "--status", "failed", "--limit", "1"]);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/id .*status .*event type .*subscription .*attempts .*created .*next attempt/);
  expect(table.stderr).toContain("more match");

  const shown = await hookbusCli(["deliveries", "show", failed[0]!]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain(failed[0]);
  expect(shown.stdout).toMatch(/500 .*http.* receiver down/);
});

test("replay --dry-run counts the failed deliveries and delivers nothing; replay --status failed then delivers each once with its webhook-id, showing progress", async () => {
  await oneAttemptSubscription();
  const failed = await deadLetteredDeliveries(3);
  expect(webhookIds(receiver.requests).sort()).toEqual([...failed].sort());
  const failedAttempts = receiver.requests.length;
  receiver.answer(() => ({ status: 200 }));

  const dryRun = await hookbusCli(["replay", "--status", "failed", "--since", "1h", "--dry-run"]);
  expect(dryRun).toMatchObject({ code: 0, stdout: "3 deliveries match; nothing replayed (dry run)\n" });
  const stillFailed = await hookbusCli(["deliveries", "list", "--status", "failed", "--json"]);
  expect(JSON.parse(stillFailed.stdout).items).toHaveLength(3);

  const replayed = await hookbusCli(["replay", "--status", "failed", "--since", "1h", "--rate", "50"]);
  expect(replayed.stderr).toBe("");
  expect(replayed.code).toBe(0);
  // Not a terminal, so progress comes as plain lines, ending with every delivery finished.
  expect(replayed.stdout).toMatch(/^rpl_\S+: 3\/3 finished, 0 failed$/m);
  expect(replayed.stdout).toMatch(/^rpl_\S+ done: 3 delivered, 0 failed, of 3$/m);

  // The dry run added nothing: the receiver got each delivery exactly once, under its old webhook-id.
  await receiver.waitForRequests(failedAttempts + 3);
  expect(webhookIds(receiver.requests.slice(failedAttempts)).sort()).toEqual([...failed].sort());
  for (const id of failed) await hookbus.deliveryWithStatus(id, "delivered");
});

test("a bulk replay whose deliveries fail again exits 4 and prints the final replay as JSON", async () => {
  await oneAttemptSubscription();
  const [failed] = await deadLetteredDeliveries(1);

  const replayed = await hookbusCli(["replay", "--status", "failed", "--json"]);
  expect(replayed.code).toBe(4);
  expect(JSON.parse(replayed.stdout)).toMatchObject({ id: expect.stringMatching(/^rpl_/), status: "done", total: 1, done: 0, failed: 1 });
  expect(replayed.stderr).toMatch(/1 of 1 deliveries failed/);
  expect(receiver.requests.filter((r) => r.headers["webhook-id"] === failed)).toHaveLength(2);
});

test("replay ID delivers one dead-lettered delivery again", async () => {
  await oneAttemptSubscription();
  const [failed] = await deadLetteredDeliveries(1);
  receiver.answer(() => ({ status: 200 }));

  const replayed = await hookbusCli(["replay", failed!]);
  expect(replayed.code).toBe(0);
  expect(replayed.stdout).toMatch(new RegExp(`^replaying ${failed}`));
  await hookbus.deliveryWithStatus(failed!, "delivered");
  expect(webhookIds(receiver.requests)).toEqual([failed, failed]);
});

test("send-sample sends a sample to the subscription and prints its outcome", async () => {
  receiver.answer(() => ({ status: 200, body: '{"thanks":true}' }));
  const subscriptionId = await oneAttemptSubscription();

  const sent = await hookbusCli(["send-sample", subscriptionId, "--type", "survey.submitted"]);
  expect(sent.code).toBe(0);
  expect(sent.stdout).toMatch(/^survey\.submitted sample delivered \(HTTP 200\) in \d+ ms: \{"thanks":true\}$/m);
  expect(receiver.requests).toHaveLength(1);
});

test("send-sample strips terminal controls a receiver sent before printing them", async () => {
  receiver.answer(() => ({ status: 200, body: '{"x":"\u001b]0;owned\u0007\u001b[2J\u009b31m\u202egone"}' }));
  const subscriptionId = await oneAttemptSubscription();
  for (const args of [
    ["send-sample", subscriptionId],
    ["send-sample", subscriptionId, "--json"],
  ]) {
    const sent = await hookbusCli(args);
    expect(sent.code).toBe(0);
    expect(sent.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  }
  expect((await hookbusCli(["send-sample", subscriptionId])).stdout).toContain('{"x":"]0;owned[2J31mgone"}');
});

test("the API key comes from the environment, a file or stdin; --api-key still works but warns", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hookbus-cli-"));
  try {
    const keyFile = join(dir, "key");
    writeFileSync(keyFile, `${hookbus.config.adminKey}\n`, { mode: 0o600 });
    const quiet = { code: 0, stderr: "" };
    expect(await hookbusCli(["deliveries", "list", "--json"])).toMatchObject(quiet);
    expect(await hookbusCli(["--api-key-file", keyFile, "deliveries", "list", "--json"], { HOOKBUS_API_KEY: "" })).toMatchObject(quiet);
    expect(await hookbusCli(["deliveries", "list", "--json"], { HOOKBUS_API_KEY: "", HOOKBUS_API_KEY_FILE: keyFile })).toMatchObject(quiet);
    expect(
      await hookbusCli(["--api-key-stdin", "deliveries", "list", "--json"], { HOOKBUS_API_KEY: "" }, `${hookbus.config.adminKey}\n`),
    ).toMatchObject(quiet);
    const flagged = await hookbusCli(["--api-key", hookbus.config.adminKey, "deliveries", "list", "--json"], { HOOKBUS_API_KEY: "" });
    expect(flagged.code).toBe(0);
    expect(flagged.stderr).toMatch(
      /^warning: --api-key shows the secret to every user of this machine \(ps\); use HOOKBUS_API_KEY, --api-key-file or --api-key-stdin instead$/m,
    );
    const bothStdin = await hookbusCli(
      [
        "--api-key-stdin",
        "subscriptions",
        "create",
        "--url",
        receiver.url,
        "--event-types",
        "survey.submitted",
        "--username",
        "u",
        "--password-stdin",
      ],
      {},
      "x\n",
    );
    expect(bothStdin.code).toBe(2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("plain http to a host other than this machine is refused before anything is sent, unless --insecure", async () => {
  const refused = await hookbusCli(["deliveries", "list"], { HOOKBUS_URL: "http://hookbus.example.org:8080" });
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(
    /^error: refusing to send the API key over plain http to hookbus.example.org: use https, or pass --insecure$/m,
  );
  for (const url of [hookbus.url, hookbus.url.replace("127.0.0.1", "localhost")]) {
    expect((await hookbusCli(["deliveries", "list", "--json"], { HOOKBUS_URL: url })).code).toBe(0);
  }
  // --insecure lifts only this check: shown against this machine, so nothing leaves it.
  expect((await hookbusCli(["--insecure", "deliveries", "list", "--json"])).code).toBe(0);
});

test("bad usage exits 2 and changes nothing", async () => {
  for (const args of [
    ["deliveries", "list", "--status", "lost"],
    ["deliveries", "list", "--since", "yesterday"],
    ["replay"],
    ["subscriptions", "create", "--url", receiver.url],
    ["nonsense"],
  ]) {
    const result = await hookbusCli(args);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr).toMatch(/error:/);
  }
  const noKey = await hookbusCli(["deliveries", "list"], { HOOKBUS_API_KEY: "" });
  expect(noKey.code).toBe(2);
  expect(noKey.stderr).toContain("HOOKBUS_API_KEY");
  expect((await hookbus.api("GET", "/v1/subscriptions")).body.items).toEqual([]);
});

test("an API error exits 1 with the API's error and issues", async () => {
  const wrongKey = await hookbusCli(["deliveries", "list"], { HOOKBUS_API_KEY: "adm_not_a_key" });
  expect(wrongKey.code).toBe(1);
  expect(wrongKey.stderr).toBe("error (HTTP 401): unknown API key\n");

  const invalid = await hookbusCli(["subscriptions", "create", "--url", "ftp://example.org/hook", "--event-types", "survey.submited"]);
  expect(invalid.code).toBe(1);
  expect(invalid.stderr).toMatch(/^error \(HTTP 422\): invalid subscription$/m);
  expect(invalid.stderr).toMatch(/^ {2}- url: /m);
  expect(invalid.stderr).toMatch(/^ {2}- eventTypes\.0: /m);
});

test("an unreachable API exits 3", async () => {
  const closedPort = await portWithNothingListening();
  const result = await hookbusCli(["deliveries", "list"], { HOOKBUS_URL: `http://127.0.0.1:${closedPort}` });
  expect(result.code).toBe(3);
  expect(result.stderr).toBe(`error: cannot reach the Hookbus API at http://127.0.0.1:${closedPort}: ECONNREFUSED\n`);
});

/** A loopback port that was free a moment ago: listen on port 0, note the port, close. */
async function portWithNothingListening(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("publish sends a file of events through the batch endpoint, lists what it refused, and exits 5 for it", async () => {
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const dir = mkdtempSync(join(tmpdir(), "hookbus-cli-"));
  try {
    const file = join(dir, "events.ndjson");
    const lines = [
      { ...surveySubmitted(), id: "batch-a" },
      { type: "survey.submitted", data: {} },
      { ...surveySubmitted("Weekly"), id: "batch-b" },
    ];
    writeFileSync(file, lines.map((line) => JSON.stringify(line)).join("\n"));
    const first = await hookbusCli(["publish", file]);
    expect(first.code).toBe(5);
    expect(first.stdout).toMatch(/^3 events: 2 published, 0 already published under their id, 1 refused\n  #1: invalid event\b.*projectId/);
    await receiver.waitForRequests(2);

    const again = await hookbusCli(["publish", file, "--json"]);
    expect(again.code).toBe(5);
    const { items } = JSON.parse(again.stdout);
    expect(items.map((item: any) => item.duplicate ?? item.error)).toEqual([true, "invalid event (the first 3 of 5 issues)", true]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("secrets keys counts subscriptions by key; secrets reseal goes through them page by page, showing progress on stderr", async () => {
  for (let n = 0; n < 2; n++) await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  const sealingKeyId = hookbus.config.encryption.sealingKeyId;

  const keys = await hookbusCli(["secrets", "keys"]);
  expect(keys).toMatchObject({ code: 0, stderr: "" });
  expect(keys.stdout).toContain(`sealing key: ${sealingKeyId}\n  ${sealingKeyId}: 2 subscriptions (sealing)`);

  const reseal = await hookbusCli(["secrets", "reseal", "--page-size", "1"]);
  expect(reseal.code).toBe(0);
  expect(reseal.stderr).toBe("checked 1/2, resealed 0\nchecked 2/2, resealed 0\n");
  expect(reseal.stdout).toMatch(/^resealed 0 of 2 subscriptions\n.*the other keys may be dropped/s);

  const json = await hookbusCli(["secrets", "reseal", "--json"]);
  expect(JSON.parse(json.stdout)).toMatchObject({ checked: 2, resealed: 0, unreadable: [], keys: { sealingKeyId } });
});

test("projects create, keys create and list, then keys revoke: a key made by the command works until revoked, and is listed without itself", async () => {
  const created = await hookbusCli(["projects", "create", "--name", "Sleep study", "--id", surveySubmitted().data.projectId, "--json"]);
  expect(created.code).toBe(0);
  const projectId = JSON.parse(created.stdout).id;
  expect(projectId).toBe(surveySubmitted().data.projectId);
  expect((await hookbusCli(["projects", "list"])).stdout).toContain("Sleep study");

  const made = await hookbusCli(["keys", "create", projectId, "--role", "publisher", "--name", "MyDataHelps"]);
  expect(made.code).toBe(0);
  const [, keyId] = /^created (key_\S+)$/m.exec(made.stdout)!;
  const [, key] = /^key\s+(hbk_\S+)$/m.exec(made.stdout)!;
  expect(made.stderr).toContain("not shown again");
  expect((await hookbus.publish(surveySubmitted(), key!)).status).toBe(202);

  const listed = await hookbusCli(["keys", "list", projectId]);
  expect(listed.stdout).toMatch(new RegExp(`${keyId}.*MyDataHelps.*publisher`));
  expect(listed.stdout).not.toContain("hbk_");
  expect((await hookbusCli(["keys", "revoke", projectId, keyId!])).stdout).toBe(`revoked ${keyId}\n`);
  expect((await hookbus.publish(surveySubmitted(), key!)).status).toBe(401);
  expect((await hookbusCli(["keys", "create", projectId, "--role", "owner", "--name", "x"])).code).toBe(2);
  expect((await hookbusCli(["projects", "delete", projectId])).stdout).toBe(`deleted ${projectId}\n`);
});

test("erasures create erases a participant's events and prints the receipt; erasures get reads it back; two fields at once exit 2", async () => {
  const published = await hookbus.publish(surveySubmitted());
  const erased = await hookbusCli([
    "erasures",
    "create",
    "--participant-identifier",
    surveySubmitted().data.participantIdentifier,
    "--json",
  ]);
  expect(erased.code).toBe(0);
  const receipt = JSON.parse(erased.stdout);
  expect(receipt).toMatchObject({ status: "done", field: "participantIdentifier", events: 1 });
  expect((await hookbus.api("GET", `/v1/events/${published.body.id}`)).status).toBe(404);
  const shown = await hookbusCli(["erasures", "get", receipt.id]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain(`${receipt.id} done: 1 events`);
  expect(shown.stdout).toContain("Redis keeps no append-only file");
  const both = await hookbusCli(["erasures", "create", "--participant-id", "a", "--trans-id", "b"]);
  expect(both.code).toBe(2);
  expect(both.stderr).toContain("exactly one of");
});

test("schedules create, list, get, pause, resume and delete a participant's schedule", async () => {
  const { projectId, participantId } = surveySubmitted().data;
  const created = await hookbusCli([
    "schedules",
    "create",
    "--name",
    "Daily check-in",
    "--mdh-project",
    projectId,
    "--participant-id",
    participantId,
    "--participant-identifier",
    "PT-0042",
    "--cron",
    "0 9 * * *",
    "--timezone",
    "America/New_York",
    "--catch-up",
    "none",
    "--json",
  ]);
  expect(created).toMatchObject({ code: 0, stderr: "" });
  const schedule = JSON.parse(created.stdout);
  expect(schedule).toMatchObject({ cron: "0 9 * * *", timezone: "America/New_York", catchUp: "none", status: "active" });

  const table = await hookbusCli(["schedules", "list"]);
  expect(table.stdout).toContain(schedule.id);
  expect(table.stdout).toContain("cron 0 9 * * * (America/New_York)");
  expect(table.stdout).toContain(schedule.nextFireAt.replace(/\.\d+Z$/, "Z"));

  expect((await hookbusCli(["schedules", "pause", schedule.id])).stdout).toBe(`paused ${schedule.id} (paused; next fire none)\n`);
  expect((await hookbusCli(["schedules", "resume", schedule.id])).stdout).toMatch(
    new RegExp(`^resumed ${schedule.id} \\(active; next fire `),
  );
  const updated = await hookbusCli(["schedules", "update", schedule.id, "--every", "1h", "--json"]);
  expect(JSON.parse(updated.stdout)).toMatchObject({ every: 3_600_000 });
  expect((await hookbusCli(["schedules", "get", schedule.id])).stdout).toContain("every 3600000 ms");

  const refused = await hookbusCli(["schedules", "update", schedule.id, "--timezone", "Nowhere/None"]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/timezone/);
  expect((await hookbusCli(["schedules", "delete", schedule.id])).stdout).toBe(`deleted ${schedule.id}\n`);
  expect(JSON.parse((await hookbusCli(["schedules", "list", "--json"])).stdout).items).toEqual([]);
});
