import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * Debian's Chromium, headless, as BROWSER-E2E.md describes: --no-sandbox because the tests
 * run as root, and no background networking (this machine's network is closed).
 */
export function launchChromium(executablePath: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath,
    headless: true,
    pipe: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Keeps a screenshot of every open page when a test failed, beside the server log. */
export async function keepScreenshots(browser: Browser, artifacts: string, name: string): Promise<void> {
  const pages = await browser.pages();
  await Promise.all(
    pages.map((page: Page, index: number) =>
      page
        .screenshot({ path: join(artifacts, `${name.replace(/[^a-z0-9]+/gi, '-')}-${index}.png`), fullPage: true })
        .catch(() => undefined),
    ),
  );
}
