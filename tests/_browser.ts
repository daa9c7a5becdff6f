// Real Chromium for the dashboard's browser tests, driven by playwright-core
// with the machine's own browser (scripts/ensure_chromium.sh installs Debian's
// package; CHROMIUM=/path picks another). A missing browser fails the tests
// that need it, with how to install it: never a skip.
import { existsSync } from "node:fs";
import process from "node:process";
import { type Browser, chromium, type Page } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The Chromium executable to drive, or an Error saying how to get one. */
export function chromiumPath(): string {
  const given = process.env.CHROMIUM;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM=${given}: no such file`);
    return given;
  }
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      "Chromium not found: run scripts/ensure_chromium.sh (Debian: apt-get install chromium) " +
        "or set CHROMIUM=/path/to/chromium",
    );
  }
  return found;
}

/** Launches headless Chromium (no sandbox: CI runs as root). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
}

/** A page that records console errors and uncaught page errors, for `assertNoErrors`. */
export async function watchedPage(
  browser: Browser,
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("dialog", (dialog) => {
    errors.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  return { page, errors };
}
