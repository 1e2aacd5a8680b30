import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { TestHookbus, waitFor } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";
import { CHROMIUM, launchChromium, pagePerTest, WatchedPage } from "./browser.js";

// Projects in the console, in Debian's Chromium against a real ingest and Redis: an operator
// picks a project, a project's admin lands in its own, and a project's keys are made and revoked.
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);

let hookbus: TestHookbus;
let browser: Browser;
let receiver: TestReceiver;
let watched: WatchedPage;
let page: Page;
let sleep: { id: string; name: string };
let cardio: { id: string; name: string };

async function makeProject(name: string): Promise<{ id: string; name: string }> {
  const made = await hookbus.api("POST", "/v1/projects", { name });
  expect(made.status).toBe(201);
  return made.body;
}

/** A webhook of the project, told apart from the others by its path. */
async function makeWebhook(projectId: string, path: string): Promise<void> {
  await hookbus.createSubscription({ projectId, url: `${receiver.url}${path}`, eventTypes: ["survey.submitted"] });
}

beforeAll(async () => {
  [hookbus, browser, receiver] = await Promise.all([
    TestHookbus.start({ worker: false }),
    launchChromium(),
    TestReceiver.start(() => ({ status: 200 })),
  ]);
  sleep = await makeProject("Sleep study");
  cardio = await makeProject("Cardio study");
  await makeWebhook(sleep.id, "/sleep-1");
  await makeWebhook(sleep.id, "/sleep-2");
  await makeWebhook(cardio.id, "/cardio");
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([hookbus?.stop(), receiver?.stop()]);
});

pagePerTest(
  () => ({ browser, url: hookbus.url }),
  (opened) => {
    watched = opened;
    page = opened.page;
  },
);

async function openSignedIn(key: string, hash: string): Promise<void> {
  await watched.signIn(key);
  await page.goto(`/console/${hash}`);
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

/** The URLs of the webhooks the page lists, once it has listed `count` of them. */
async function listedWebhooks(count: number): Promise<string[]> {
  await page.waitForFunction((n) => document.querySelectorAll(".webhook-list > li").length === n, count);
  return (await page.locator(".webhook-list h2.url").allTextContents()).sort();
}

test("an operator picks a project in the header and sees only its webhooks; the choice stays in the URL from page to page", async () => {
  await openSignedIn(hookbus.config.adminKey, "#/webhooks");
  const picker = page.getByLabel("Project", { exact: true });
  // Every project is offered, the default one (what was made before projects) among them.
  const every = (await hookbus.api("GET", "/v1/projects")).body.items.map((p: { name: string }) => p.name);
  expect(every).toEqual(expect.arrayContaining(["Default", "Sleep study", "Cardio study"]));
  expect(await picker.locator("option").allTextContents()).toEqual(every);

  await picker.selectOption({ label: "Cardio study" });
  expect(await listedWebhooks(1)).toEqual([`${receiver.url}/cardio`]);
  expect(page.url()).toContain(`project=${cardio.id}`);

  await picker.selectOption({ label: "Sleep study" });
  expect(await listedWebhooks(2)).toEqual([`${receiver.url}/sleep-1`, `${receiver.url}/sleep-2`]);
  await watched.screenshot("projects-picker");

  // Another page keeps the project: the deliveries filter offers only its webhooks.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Deliveries" }).click();
  await page.getByRole("heading", { name: "Deliveries" }).waitFor();
  expect(page.url()).toContain(`project=${sleep.id}`);
  await page.waitForFunction(() => document.querySelectorAll("#filter-webhook option").length === 3);
  expect(await page.locator("#filter-webhook option").allTextContents()).toEqual([
    "Any",
    `${receiver.url}/sleep-1`,
    `${receiver.url}/sleep-2`,
  ]);

  // A webhook added here is the project's.
  await page.goto(`/console/#/webhooks/new?project=${sleep.id}`);
  await page.getByLabel("URL").fill(`${receiver.url}/sleep-3`);
  await page.getByRole("button", { name: "Create webhook" }).click();
  await page.getByLabel("Signing secret").waitFor();
  const sleepWebhooks = (await hookbus.api("GET", `/v1/subscriptions?projectId=${sleep.id}`)).body.items;
  expect(sleepWebhooks.map((w: { url: string }) => w.url).sort()).toEqual(
    ["/sleep-1", "/sleep-2", "/sleep-3"].map((path) => `${receiver.url}${path}`),
  );
});

test("a project's admin key lands in its own project, named, with no picker and none of the other project's webhooks", async () => {
  const coordinator = await hookbus.api("POST", `/v1/projects/${cardio.id}/keys`, { role: "admin", name: "cardio coordinator" });
  await openSignedIn(coordinator.body.key, "#/webhooks");
  expect(await listedWebhooks(1)).toEqual([`${receiver.url}/cardio`]);
  expect(await page.locator(".project-label").textContent()).toBe("Project Cardio study");
  expect(await page.getByLabel("Project", { exact: true }).count()).toBe(0);
});

test("the Keys page: the API's issue beside the name, then a key shown once, listed without it, revoked after a confirmation and refused by the API", async () => {
  watched.expectApiErrors(422);
  await openSignedIn(hookbus.config.adminKey, `#/keys?project=${sleep.id}`);
  await page.getByRole("heading", { name: "API keys of Sleep study" }).waitFor();
  await page.getByText("No keys yet").waitFor();

  await page.getByRole("button", { name: "Make key" }).click();
  await page.locator("#key-name-issue").waitFor();
  expect(await page.getByLabel("Name").getAttribute("aria-invalid")).toBe("true");
  expect(await page.getByLabel("Name").getAttribute("aria-describedby")).toContain("key-name-issue");

  await page.getByLabel("Name").fill("sleep study coordinator");
  await page.getByLabel("Role").selectOption("admin");
  await page.getByRole("button", { name: "Make key" }).click();
  const key = await watched.shownSecret("API key", "Copy key");
  expect(key).toMatch(/^hbk_/);
  // The key works, and in its project only.
  expect((await hookbus.api("GET", "/v1/projects", undefined, key)).body.items.map((p: { id: string }) => p.id)).toEqual([sleep.id]);

  const rows = page.locator("table.keys tbody tr");
  await page.waitForFunction(() => document.querySelectorAll("table.keys tbody tr").length === 1);
  const cells = await rows.first().locator("td").allTextContents();
  expect(cells.slice(0, 2)).toEqual(["sleep study coordinator", "admin"]);
  await watched.screenshot("keys-made");

  // Shown once: loaded again, the page has the key's name but not the key.
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll("table.keys tbody tr").length === 1);
  expect(await page.getByLabel("API key", { exact: true }).count()).toBe(0);
  expect(await page.locator("body").textContent()).not.toContain(key);
  expect(await rows.first().locator("td").nth(0).textContent()).toBe("sleep study coordinator");
  await watched.screenshot("keys-listed");

  const asked: string[] = [];
  page.on("dialog", (dialog) => (asked.push(dialog.message()), void dialog.accept()));
  await page.getByRole("button", { name: "Revoke sleep study coordinator" }).click();
  await page.getByText("No keys yet").waitFor();
  expect(asked).toEqual([expect.stringContaining('Revoke the key "sleep study coordinator"?')]);
  expect((await hookbus.api("GET", `/v1/projects/${sleep.id}/keys`)).body.items).toEqual([]);
  // Every ingest trusts a key it looked up for half a second at most.
  await waitFor(async () => (await hookbus.api("GET", "/v1/projects", undefined, key)).status === 401, "the revoked key refused", 5_000);
});
