import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

/** Debian's Chromium; never a browser that Playwright downloads. */
export const CHROMIUM = "/usr/bin/chromium";

export const SCREENSHOTS = path.resolve("test-output", "console");

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * A fresh page for each test of a file, closed after it: registers the beforeEach and afterEach
 * that do it. `using` says where, read as each test starts (the page is signed in with its key
 * when it names one); `opened` takes the page.
 */
export function pagePerTest(using: () => { browser: Browser; url: string; key?: string }, opened: (watched: WatchedPage) => void): void {
  let watched: WatchedPage | undefined;
  beforeEach(async () => {
    const { browser, url, key } = using();
    watched = await WatchedPage.open(browser, url);
    if (key !== undefined) await watched.signIn(key);
    opened(watched);
  });
  afterEach(async () => {
    await watched?.close();
  });
}

/**
 * A fresh page of the console that records what must never happen: an error thrown in the
 * page, an error written to its console, a request to any origin but the ingest's.
 */
export class WatchedPage {
  readonly problems: string[] = [];
  /** API answers a test provokes on purpose (a wrong key, a bad field): Chromium logs each as an error. */
  private expectedStatuses = new Set<number>();

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly origin: string,
  ) {
    page.on("pageerror", (error) => this.problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      const status = /status of (\d{3})/.exec(message.text());
      if (status && this.expectedStatuses.has(Number(status[1])) && message.location().url.startsWith(origin)) return;
      this.problems.push(`console error: ${message.text()}`);
    });
    page.on("request", (request) => {
      const url = new URL(request.url());
      if ((url.protocol === "http:" || url.protocol === "https:" || url.protocol === "ws:") && url.origin !== origin)
        this.problems.push(`request outside the ingest: ${request.url()}`);
    });
  }

  static async open(browser: Browser, origin: string, viewport = { width: 1280, height: 900 }): Promise<WatchedPage> {
    const context = await browser.newContext({ viewport, baseURL: origin });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
    return new WatchedPage(context, await context.newPage(), origin);
  }

  /** Signs the page in with an API key, as the sign-in page would, before any of the console's scripts run. */
  async signIn(key: string): Promise<void> {
    await this.page.addInitScript((k) => sessionStorage.setItem("hookbus.console.apiKey", k), key);
  }

  expectApiErrors(...statuses: number[]): void {
    for (const status of statuses) this.expectedStatuses.add(status);
  }

  /** The secret a notice shows once (a webhook's signing secret, an API key), checking its button copies it. */
  async shownSecret(label: string, copyButton: string): Promise<string> {
    const shown = this.page.getByLabel(label, { exact: true });
    await shown.waitFor();
    const secret = (await shown.textContent())!;
    await this.page.getByRole("button", { name: copyButton }).click();
    await this.page.getByText("Copied to the clipboard.").waitFor();
    expect(await this.page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    return secret;
  }

  async screenshot(name: string): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await this.page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  /** Closes the page, and fails if anything it watched for happened. */
  async close(): Promise<void> {
    await this.context.close();
    if (this.problems.length) throw new Error(`the console page misbehaved:\n${this.problems.join("\n")}`);
  }
}
