import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";
import { distinctiveParticipant, surveyOf } from "../fixtures/participants.js";
import { TestHookbus } from "../support/harness.js";
import { CHROMIUM, launchChromium, pagePerTest, WatchedPage } from "./browser.js";

// The Erasure page in Debian's Chromium against a real ingest, worker and Redis.
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);

let hookbus: TestHookbus;
let browser: Browser;
let watched: WatchedPage;

beforeAll(async () => {
  [hookbus, browser] = await Promise.all([TestHookbus.start(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await hookbus?.stop();
});

pagePerTest(
  () => ({ browser, url: hookbus.url, key: hookbus.config.adminKey }),
  (opened) => (watched = opened),
);

test("the Erasure form erases a participant's events and shows the receipt: the counts, and never the value", async () => {
  const { page } = watched;
  const alice = distinctiveParticipant("ALICE");
  const published = await Promise.all([1, 2].map(() => hookbus.publish(surveyOf(alice))));
  await page.goto("/console/#/erasures");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Erasure" }).waitFor();
  await page.getByLabel("Field").selectOption({ label: "MyDataHelps participant identifier (PatientIdentifier)" });
  await page.getByLabel("Value").fill(alice.participantIdentifier);
  await page.getByRole("button", { name: "Erase" }).click();

  await page.getByRole("heading", { name: /^era_/ }).waitFor();
  const facts = Object.fromEntries(
    await page
      .locator("dl[aria-label=Receipt] dt")
      .evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
  );
  expect(facts).toMatchObject({
    Status: "Done",
    "Erased by": "MyDataHelps participant identifier (PatientIdentifier)",
    "Events erased": "2",
    "Deliveries erased": "0",
    "Attempts erased": "0",
    "Redis's files": "Redis keeps no append-only file",
  });
  expect(await page.locator("main").textContent()).not.toContain(alice.participantIdentifier);
  const id = (await page.getByRole("heading", { name: /^era_/ }).textContent())!;
  expect(page.url()).toContain(`#/erasures/${id}`);
  for (const { body } of published) expect((await hookbus.api("GET", `/v1/events/${body.id}`)).status).toBe(404);
});

test("an empty value is refused beside the field, and nothing is erased", async () => {
  const { page } = watched;
  watched.expectApiErrors(422);
  await page.goto("/console/#/erasures");
  await page.getByRole("button", { name: "Erase" }).click();
  await page.getByRole("alert").waitFor();
  expect(await page.locator("#erasure-value-issue").textContent()).toMatch(/\S/);
  expect(await page.getByLabel("Value").getAttribute("aria-invalid")).toBe("true");
});
