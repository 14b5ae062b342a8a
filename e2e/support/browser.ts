import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * Debian's Chromium, headless, as BROWSER-E2E.md describes: --no-sandbox because the tests
 * run as root, and no background networking (this machine's network is closed).
 */
/** Flags for headless Chromium as root in a sandbox-less container, quiet on the network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(executablePath: string): Promise<Browser> {
  // acceptInsecureCerts: the e2e deployment serves https with a throw-away CA (production.ts).
  return puppeteer.launch({ executablePath, headless: true, pipe: true, acceptInsecureCerts: true, args: CHROMIUM_ARGS });
}

/**
 * Keeps a screenshot of every open page when a test failed, beside the server log. One page at
 * a time, each brought to the front first: Chromium does not paint background tabs, so their
 * screenshots would wait forever; each gets 5 s at most.
 */
export async function keepScreenshots(browser: Browser, artifacts: string, name: string): Promise<void> {
  const pages = await browser.pages();
  for (const [index, page] of pages.entries()) {
    const path = join(artifacts, `${name.replace(/[^a-z0-9]+/gi, '-')}-${index}.png`);
    await Promise.race([
      page
        .bringToFront()
        .then(() => page.screenshot({ path, fullPage: true }))
        .catch(() => undefined),
      new Promise((done) => setTimeout(done, 5_000)),
    ]);
  }
}
