import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import type { ScheduleView } from "@hookbus/schemas";
import { checkInSchedule, STUDY_GUID } from "../fixtures/schedules.js";
import { TestHookbus, waitFor } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";
import { CHROMIUM, launchChromium, pagePerTest, WatchedPage } from "./browser.js";

// The Schedules page in Debian's Chromium against a real ingest, worker and Redis: the list
// with each schedule's next fire, making one with its cron read out in words, pause and
// resume, and a schedule's recent fires linked to their deliveries.
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);

let hookbus: TestHookbus;
let browser: Browser;
let receiver: TestReceiver;
let watched: WatchedPage;
let page: Page;
let everySecond: ScheduleView;
let morning: ScheduleView;

beforeAll(async () => {
  [hookbus, browser, receiver] = await Promise.all([TestHookbus.start(), launchChromium(), TestReceiver.start(() => ({ status: 200 }))]);
  expect((await hookbus.api("POST", "/v1/projects", { name: "Sleep study", id: STUDY_GUID })).status).toBe(201);
  await hookbus.createSubscription({ projectId: STUDY_GUID, url: receiver.url, eventTypes: ["schedule.triggered"] });
  everySecond = await hookbus.client.schedules.create({ ...checkInSchedule({ every: "1s" }, 1), projectId: STUDY_GUID });
  morning = await hookbus.client.schedules.create({
    ...checkInSchedule({ cron: "0 9 * * *", timezone: "America/New_York" }, 2),
    name: "Morning survey",
    projectId: STUDY_GUID,
  });
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

const row = (scheduleId: string) => page.locator(`tr[data-schedule-id="${scheduleId}"]`);

test("the list shows each schedule's timing in words and its next fire; pause and resume change what it shows and does", async () => {
  await page.goto(`/console/#/schedules?project=${STUDY_GUID}`);
  await row(morning.id).waitFor();
  expect(await page.locator("tr[data-schedule-id]").count()).toBe(2);
  const cells = await row(morning.id).locator("td").allTextContents();
  expect(cells.slice(0, 4)).toEqual(["Morning survey", "PT-0002", "At 09:00 AM (America/New_York)", "active"]);
  expect(await row(morning.id).locator("time").first().getAttribute("datetime")).toBe(morning.nextFireAt);
  expect(await row(everySecond.id).locator("td").nth(2).textContent()).toBe("Every 1.0 s");

  await row(everySecond.id).getByRole("button", { name: "Pause Daily check-in for PT-0001" }).click();
  await row(everySecond.id).getByText("paused").waitFor();
  expect(await row(everySecond.id).locator("td").nth(4).textContent()).toBe("none");
  expect((await hookbus.client.schedules.get(everySecond.id)).status).toBe("paused");
  await row(everySecond.id).getByRole("button", { name: "Resume Daily check-in for PT-0001" }).click();
  await row(everySecond.id).getByText("active").waitFor();
  expect((await hookbus.client.schedules.get(everySecond.id)).status).toBe("active");
});

test("a new schedule's cron is explained in words as it is typed; a bad one is refused beside its field", async () => {
  await page.goto(`/console/#/schedules?project=${STUDY_GUID}`);
  await page.getByLabel("Name", { exact: true }).fill("Weekday reminder");
  await page.getByLabel("Participant id", { exact: true }).fill("b2e4d6f8-1a3c-4e5f-8a9b-000000000077");
  await page.getByLabel("Participant identifier", { exact: true }).fill("PT-0077");
  await page.getByLabel("Time zone").fill("America/New_York");
  await page.getByLabel("Cron pattern").fill("30 8 * * 1-5");
  await page.getByText("At 08:30 AM, Monday through Friday, America/New_York time").waitFor();

  await page.getByLabel("Cron pattern").fill("61 8 * * *");
  await page.getByText("Not a cron pattern this page can read.").waitFor();
  watched.expectApiErrors(422);
  await page.getByRole("button", { name: "Make schedule" }).click();
  await page
    .locator("#schedule-cron-issue")
    .getByText(/not a valid cron pattern/)
    .waitFor();

  await page.getByLabel("Cron pattern").fill("30 8 * * 1-5");
  await page.getByRole("button", { name: "Make schedule" }).click();
  await page.locator("tr[data-schedule-id]").getByText("PT-0077").waitFor();
  const made = (await hookbus.client.schedules.list({ projectId: STUDY_GUID })).items.find((s) => s.name === "Weekday reminder")!;
  expect(made).toMatchObject({
    cron: "30 8 * * 1-5",
    timezone: "America/New_York",
    catchUp: "last",
    data: { participantIdentifier: "PT-0077" },
  });
  await watched.screenshot("schedules");
});

test("a schedule's page lists its recent fires, each linked to the delivery of the event it published", async () => {
  const fired = await waitFor(async () => {
    const read = await hookbus.client.schedules.get(everySecond.id);
    return read.recentFires.length >= 2 && read;
  }, "two fires");
  const [, older] = fired.recentFires;
  const { deliveries } = await hookbus.client.events.get(older!.eventId);
  await page.goto(`/console/#/schedules/${everySecond.id}?project=${STUDY_GUID}`);
  const fireRow = page.locator(`tr[data-event-id="${older!.eventId}"]`);
  await fireRow.locator("a.delivery-link").waitFor();
  expect(await fireRow.locator("time").first().getAttribute("datetime")).toBe(older!.plannedAt);
  await fireRow.locator("a.delivery-link").click();
  await page.waitForURL(new RegExp(`#/deliveries/${deliveries[0]!.id}`));
  await page.getByText(deliveries[0]!.id).first().waitFor();
});
