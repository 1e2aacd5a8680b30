import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";
import { apiRoutes } from "@hookbus/schemas";
import { TestHookbus } from "../support/harness.js";
import { CHROMIUM, launchChromium, WatchedPage } from "./browser.js";

// The API reference pages in Debian's Chromium: rendered from the document, with nothing
// loaded from outside the ingest.
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);

let hookbus: TestHookbus;
let browser: Browser;

beforeAll(async () => {
  [hookbus, browser] = await Promise.all([TestHookbus.start({ worker: false }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await hookbus?.stop();
});

test("/docs renders every operation of the OpenAPI document, from the ingest alone", async () => {
  const watched = await WatchedPage.open(browser, hookbus.url);
  const { page } = watched;
  await page.goto("/docs");
  await page.getByRole("heading", { name: "Hookbus", exact: false }).first().waitFor();
  for (const route of apiRoutes) {
    await page.getByText(route.summary, { exact: true }).first().waitFor({ state: "attached" });
  }
  await watched.screenshot("docs");
  await watched.close();
});
