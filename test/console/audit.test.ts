import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { TestHookbus } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";
import { CHROMIUM, launchChromium, pagePerTest, WatchedPage } from "./browser.js";

// The Audit page, in Debian's Chromium against a real ingest and Redis: who changed a webhook,
// each change as its value before and after, filtered like the API, and no secret on the page.
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);

let hookbus: TestHookbus;
let browser: Browser;
let receiver: TestReceiver;
let watched: WatchedPage;
let page: Page;
let webhookId: string;

beforeAll(async () => {
  [hookbus, browser, receiver] = await Promise.all([
    TestHookbus.start({ worker: false, adminKeyName: "Ops Lead" }),
    launchChromium(),
    TestReceiver.start(() => ({ status: 200 })),
  ]);
  const made = await hookbus.createSubscription({
    url: `${receiver.url}/before`,
    eventTypes: ["survey.submitted"],
    auth: { type: "basic", username: "trialkit", password: "console-password-0042" },
    headers: { "x-token": "console-header-0042" },
  });
  webhookId = made.id;
  await hookbus.client.subscriptions.update(webhookId, { url: `${receiver.url}/after`, description: "renamed" });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([hookbus?.stop(), receiver?.stop()]);
});

pagePerTest(
  () => ({ browser, url: hookbus.url, key: hookbus.config.adminKey }),
  (opened) => {
    watched = opened;
    page = opened.page;
  },
);

/** The rows of the audit table: each row's action and the text of its cells. */
async function shownRows(): Promise<{ action: string; text: string }[]> {
  await page.locator("table.audit").waitFor();
  return page
    .locator("table.audit > tbody > tr")
    .evaluateAll((rows) => rows.map((row) => ({ action: row.children[2]!.textContent!, text: (row as HTMLElement).innerText })));
}

test("the Audit page shows who changed a webhook, newest first, with each changed field before and after, and no secret", async () => {
  await page.goto("/console/#/audit");
  await page.getByRole("link", { name: "Audit" }).waitFor();
  const rows = await shownRows();
  expect(rows.map((r) => r.action)).toEqual(["subscription.update", "subscription.create"]);
  expect(rows[0]!.text).toContain("Ops Lead");

  const change = page.locator("table.audit > tbody > tr").first().locator("table.changes tbody tr");
  const cells = await change.evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
  expect(cells).toEqual([
    ["description", "null", '"renamed"'],
    ["url", JSON.stringify(`${receiver.url}/before`), JSON.stringify(`${receiver.url}/after`)],
  ]);

  const created = await page.locator("table.audit > tbody > tr").nth(1).locator("table.changes").innerText();
  expect(created).toContain('{"x-token":"********"}');
  const everything = await page.locator("main").innerText();
  expect(everything).not.toContain("console-password-0042");
  expect(everything).not.toContain("console-header-0042");
  await watched.screenshot("audit");
});

test("the filters narrow the trail and stay in the URL", async () => {
  await page.goto("/console/#/audit");
  await page.getByLabel("Action").selectOption("subscription.create");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForURL(/action=subscription\.create/);
  await page.waitForFunction(() => document.querySelectorAll("table.audit > tbody > tr").length === 1);
  expect((await shownRows()).map((r) => r.action)).toEqual(["subscription.create"]);

  await page.getByLabel("Who (key name or id)").fill("someone else");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.getByText("No audit entries match these filters.").waitFor();

  await page.goto(`/console/#/audit?resourceId=${webhookId}&actor=Ops%20Lead`);
  await page.waitForFunction(() => document.querySelectorAll("table.audit > tbody > tr").length === 2);
  expect(await page.getByLabel("Resource id").inputValue()).toBe(webhookId);
});

test("Entries of: every project shows what an operator did outside the project shown, beside the project's own", async () => {
  expect((await hookbus.api("POST", "/v1/projects", { name: "Sleep study" })).status).toBe(201);
  await page.goto("/console/#/audit");
  expect((await shownRows()).map((r) => r.action)).toEqual(["subscription.update", "subscription.create"]);

  await page.getByLabel("Entries of").selectOption("all");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForURL(/scope=all/);
  await page.waitForFunction(() => document.querySelectorAll("table.audit > tbody > tr").length === 3);
  expect((await shownRows()).map((r) => r.action)).toEqual(["project.create", "subscription.update", "subscription.create"]);
  expect(await page.getByText("Every change made to every project this key may see").count()).toBe(1);
});
