import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { surveySubmitted } from "../fixtures/events.js";
import { TestHookbus, waitFor } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";
import { CHROMIUM, launchChromium, pagePerTest, WatchedPage } from "./browser.js";

// The console in Debian's Chromium against a real ingest, worker, Redis and receivers. The
// tests run in order and build on each other, as an admin would: sign in, add a webhook, ...
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);

let hookbus: TestHookbus;
let browser: Browser;
let receiver: TestReceiver;
let failing: TestReceiver;
let watched: WatchedPage;
let page: Page;

beforeAll(async () => {
  [hookbus, browser, receiver, failing] = await Promise.all([
    TestHookbus.start(),
    launchChromium(),
    TestReceiver.start(() => ({ status: 200, body: '{"thanks":true}' })),
    TestReceiver.start(() => ({ status: 500, body: "receiver is down" })),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([hookbus?.stop(), receiver?.stop(), failing?.stop()]);
});

pagePerTest(
  () => ({ browser, url: hookbus.url }),
  (opened) => {
    watched = opened;
    page = opened.page;
  },
);

/** Opens the console signed in, as a tab that signed in before would be (the first test signs in by hand). */
async function openSignedIn(hash = ""): Promise<void> {
  await watched.signIn(hookbus.config.adminKey);
  await page.goto(`/console/${hash}`);
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

test("signing in: a wrong key and a publisher key are refused, saying why; an admin key signs in with Enter and is kept in the tab only", async () => {
  watched.expectApiErrors(401, 403);
  await page.goto("/console");
  const key = page.getByLabel("API key");
  expect(await key.getAttribute("type")).toBe("password");
  // The browser is not invited to save the key with its passwords.
  expect(await key.getAttribute("autocomplete")).toBe("off");

  await key.fill("not-a-key");
  await key.press("Enter");
  await page.getByRole("alert").filter({ hasText: "not known" }).waitFor();

  await key.fill(hookbus.config.publisherKey);
  await key.press("Enter");
  await page.getByRole("alert").filter({ hasText: "publisher key" }).waitFor();
  expect(await page.getByRole("alert").textContent()).toContain("may not administer");
  await watched.screenshot("sign-in");

  await key.fill(hookbus.config.adminKey);
  await key.press("Enter");
  await page.getByRole("heading", { name: "Webhooks" }).waitFor();
  expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([hookbus.config.adminKey]);
  expect(await page.evaluate(() => Object.keys(localStorage).length + document.cookie.length)).toBe(0);
});

test("adding a webhook: the API's issue is shown beside the field, then the secret is shown once and copies", async () => {
  watched.expectApiErrors(422);
  await openSignedIn("#/webhooks/new");
  await page.getByRole("heading", { name: "Add webhook" }).waitFor();
  await page.getByLabel("URL").fill("not a url");
  await page.getByLabel("Description").fill("Survey results to the study's CTMS");
  await page.getByLabel("Survey names").fill("Daily Symptoms");
  await page.getByLabel("Retry schedule").fill("1s, 1s");
  await page.getByRole("button", { name: "Create webhook" }).click();
  const urlIssue = page.locator("#field-url-issue");
  await urlIssue.waitFor();
  expect(await page.getByLabel("URL").getAttribute("aria-invalid")).toBe("true");
  expect(await page.getByLabel("URL").getAttribute("aria-describedby")).toContain("field-url-issue");
  await watched.screenshot("webhook-form");

  await page.getByLabel("URL").fill(receiver.url);
  await page.getByRole("button", { name: "Create webhook" }).click();
  expect(await watched.shownSecret("Signing secret", "Copy secret")).toMatch(/^whsec_/);

  const [created] = (await hookbus.api("GET", "/v1/subscriptions")).body.items;
  expect(created).toMatchObject({
    url: receiver.url,
    environment: "test",
    filter: { surveyNames: ["Daily Symptoms"] },
    retrySchedule: [1000, 1000],
  });

  // Shown once: the list, loaded again, has no secret in it.
  await page.reload();
  await page.getByRole("heading", { name: receiver.url }).waitFor();
  expect(await page.getByLabel("Signing secret").count()).toBe(0);
});

test("send sample: the receiver gets it and the page shows its status, body and duration", async () => {
  await openSignedIn("#/webhooks");
  const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: receiver.url }) });
  await card.getByRole("button", { name: "Send sample" }).click();
  const answer = card.getByTestId("sample-answer");
  await answer.waitFor();
  expect(await answer.textContent()).toMatch(/delivered, status 200, \d+(\.\d)? (ms|s)/);
  expect(await answer.getByLabel("Receiver's answer").textContent()).toBe('{"thanks":true}');
  const [sample] = await receiver.waitForRequests(1);
  expect(JSON.parse(sample!.body)).toMatchObject({ type: "survey.submitted" });
  await watched.screenshot("webhooks");
});

test("the Test/Live switch changes the webhook's environment", async () => {
  await openSignedIn("#/webhooks");
  const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: receiver.url }) });
  const live = card.getByRole("switch", { name: "Live mode" });
  expect(await live.getAttribute("aria-checked")).toBe("false");
  await live.click();
  await page.waitForFunction(
    (url) =>
      [...document.querySelectorAll("li")].some(
        (li) => li.textContent?.includes(url) && li.querySelector('[role="switch"]')?.getAttribute("aria-checked") === "true",
      ),
    receiver.url,
  );
  const [webhook] = (await hookbus.api("GET", "/v1/subscriptions")).body.items;
  expect(webhook.environment).toBe("live");
});

let failingWebhookId: string;

test("events to a failing receiver show in the failed list, with each attempt and the payload", async () => {
  const webhook = await hookbus.createSubscription({
    url: failing.url,
    eventTypes: ["survey.submitted"],
    retrySchedule: [],
    description: "Down for maintenance",
  });
  failingWebhookId = webhook.id;
  const events = await Promise.all([1, 2, 3].map((n) => hookbus.publish(surveySubmitted(`Survey ${n}`))));
  const deliveries = await Promise.all(
    events.map(async (e) => (await hookbus.deliveriesOf(e.body.id)).find((d) => d.subscriptionId === webhook.id)!),
  );
  await Promise.all(deliveries.map((d) => hookbus.deliveryWithStatus(d.id, "failed")));

  await openSignedIn();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Deliveries" }).click();
  await page.getByRole("heading", { name: "Deliveries" }).waitFor();
  await page.getByLabel("Status").selectOption("failed");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForFunction(() => document.querySelectorAll("table.deliveries tbody tr").length === 3);
  const statuses = await page.locator("table.deliveries tbody tr td:nth-child(2)").allTextContents();
  expect(statuses).toEqual(["failed", "failed", "failed"]);
  expect(page.url()).toContain("status=failed");
  await watched.screenshot("deliveries-failed");

  await page.getByRole("link", { name: deliveries[0]!.id }).click();
  await page.getByRole("heading", { name: deliveries[0]!.id }).waitFor();
  const attempt = page.locator("table.attempts tbody tr");
  await attempt.first().waitFor();
  expect(await attempt.count()).toBe(1);
  expect(await attempt.first().textContent()).toContain("500");
  expect(await attempt.first().textContent()).toContain("receiver is down");
  expect(JSON.parse((await page.getByLabel("Payload").textContent())!)).toMatchObject({ surveyName: "Survey 1" });
  await watched.screenshot("delivery");
});

test("replay all shown: a dry-run count, then the progress bar to 100%, and the deliveries are delivered", async () => {
  failing.answer(() => ({ status: 200 }));
  await openSignedIn(`#/deliveries?status=failed&subscriptionId=${failingWebhookId}`);
  await page.getByRole("button", { name: "Replay all shown" }).click();
  await page.getByTestId("replay-count").filter({ hasText: "3 failed deliveries will be sent again" }).waitFor();
  await page.getByRole("button", { name: "Replay 3" }).click();

  const progress = page.getByRole("progressbar", { name: "Replay progress" });
  await progress.waitFor();
  await page.waitForFunction(() => {
    const bar = document.querySelector("progress");
    return bar !== null && bar.max === 3 && bar.value === 3;
  });
  await page.getByTestId("replay-words").filter({ hasText: "100%: 3 of 3 (3 delivered, 0 failed, 0 skipped)" }).waitFor();
  await page.getByText("Replay finished").waitFor();
  await watched.screenshot("replay-finished");
  await failing.waitForRequests(6);

  await page.goto(`/console/#/deliveries?subscriptionId=${failingWebhookId}`);
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll("table.deliveries tbody tr td:nth-child(2)")].map((td) => td.textContent);
    return cells.length === 3 && cells.every((text) => text === "delivered");
  });
});

test("one delivery replayed from its page is sent again under the same webhook-id", async () => {
  const [delivery] = (await hookbus.api("GET", `/v1/deliveries?subscriptionId=${failingWebhookId}&limit=1`)).body.items;
  const before = failing.requests.length;
  await openSignedIn(`#/deliveries/${delivery.id}`);
  await page.getByRole("button", { name: "Replay", exact: true }).click();
  await page.getByText("Replay queued").waitFor();
  const [again] = (await failing.waitForRequests(before + 1)).slice(before);
  expect(again!.headers["webhook-id"]).toBe(delivery.id);
});

test("disabling a webhook shows it disabled, and why", async () => {
  await openSignedIn("#/webhooks");
  const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: failing.url }) });
  await card.getByRole("button", { name: "Disable" }).click();
  await card.getByTestId("disabled-reason").waitFor();
  expect(await card.getByTestId("disabled-reason").textContent()).toContain("Disabled by an admin");
  expect(await card.getByRole("button", { name: "Enable" }).count()).toBe(1);
  expect((await hookbus.api("GET", `/v1/subscriptions/${failingWebhookId}`)).body).toMatchObject({
    enabled: false,
    disabledReason: "admin",
  });
  await watched.screenshot("webhooks-disabled");
});

test("the overview charts the last hour with uPlot, and the console works at a phone's width", async () => {
  await openSignedIn("#/overview");
  await page.getByRole("heading", { name: "Overview: the last hour" }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll("figure.chart canvas").length === 3);
  expect(await page.locator(".stats .stat-value").first().textContent()).not.toBe("0");
  expect(await page.getByRole("table").filter({ hasText: failing.url }).count()).toBe(1);
  await watched.screenshot("overview");

  await page.setViewportSize({ width: 390, height: 800 });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
  await page.getByRole("heading", { name: receiver.url }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await watched.screenshot("webhooks-narrow");
});
