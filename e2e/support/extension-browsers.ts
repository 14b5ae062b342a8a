// Chromium and Firefox ESR with the Gatehouse test extension loaded, launched the ways
// shared/BROWSER-E2E.md records as working on these machines (headless, as root, no download).
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import puppeteer, { type Browser, type Page, type Target } from 'puppeteer-core';
import { CHROMIUM_ARGS } from './browser.js';

export type BrowserName = 'chromium' | 'firefox';

export const CHROMIUM = '/usr/bin/chromium';
export const FIREFOX_ESR = '/usr/bin/firefox-esr';

/** `browser_specific_settings.gecko.id` in manifest.config.ts. */
export const GECKO_ID = 'extension@gatehouse.dev';

/**
 * Firefox gives every installed extension a random internal UUID (its moz-extension:// host);
 * the e2e fixes it in advance through a pref so the backend's CORS_ORIGINS can name it before
 * the browser starts.
 */
export const FIREFOX_EXTENSION_UUID = '6a0c1a51-2f0e-4b7e-9d8f-5e2b7c3d9a41';

/**
 * The id Chromium gives an unpacked extension: the first 128 bits of SHA-256 over its absolute
 * path, each hex digit written with the letters a–p. Known before launch, so CORS_ORIGINS can
 * name it; `launchExtensionBrowser` checks it against what Chromium reports.
 */
export function chromiumExtensionId(dir: string): string {
  const hex = createHash('sha256').update(resolve(dir), 'utf8').digest('hex').slice(0, 32);
  return [...hex].map((digit) => String.fromCharCode('a'.charCodeAt(0) + Number.parseInt(digit, 16))).join('');
}

/** The extension's origin in that browser, as the backend sees it in `Origin`. */
export function extensionOrigin(name: BrowserName, dir: string): string {
  return name === 'chromium' ? `chrome-extension://${chromiumExtensionId(dir)}` : `moz-extension://${FIREFOX_EXTENSION_UUID}`;
}

/** A running browser with the extension installed. */
export interface ExtensionBrowser {
  readonly name: BrowserName;
  readonly browser: Browser;
  /** chrome-extension://<id> or moz-extension://<uuid>. */
  readonly origin: string;
  /** A new tab on one of the extension's pages (popup.html, options.html), loaded. */
  openExtensionPage(path: string): Promise<Page>;
  close(): Promise<void>;
}

export type ColorScheme = 'light' | 'dark';

/**
 * Launches `name` headless and installs the unpacked extension in `dir` (a build:test output).
 * `scheme`: Firefox's profile answers prefers-color-scheme with it (Firefox cannot emulate it
 * per page over WebDriver BiDi; Chromium can, see page.emulateMediaFeatures).
 */
export async function launchExtensionBrowser(name: BrowserName, dir: string, scheme?: ColorScheme): Promise<ExtensionBrowser> {
  return name === 'chromium' ? launchChromiumWithExtension(dir) : launchFirefoxWithExtension(dir, scheme);
}

async function launchChromiumWithExtension(dir: string): Promise<ExtensionBrowser> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The e2e deployment serves https with a throw-away CA (support/production.ts).
    acceptInsecureCerts: true,
    pipe: true,
    // Install explicitly below: `enableExtensions: [dir]` does not wait for the install.
    enableExtensions: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const id = await browser.installExtension(resolve(dir));
    const expected = chromiumExtensionId(dir);
    if (id !== expected) throw new Error(`Chromium gave the extension id ${id}, not ${expected}: CORS_ORIGINS would not match`);
    const origin = `chrome-extension://${id}`;
    return {
      name: 'chromium',
      browser,
      origin,
      async openExtensionPage(path) {
        const page = await browser.newPage();
        await page.goto(`${origin}/${path}`);
        return page;
      },
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

async function launchFirefoxWithExtension(dir: string, scheme?: ColorScheme): Promise<ExtensionBrowser> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_ESR,
    headless: true,
    // The e2e deployment serves https with a throw-away CA (support/production.ts).
    acceptInsecureCerts: true,
    // Lets a test tab navigate to moz-extension:// pages; only ever on a throw-away profile.
    args: ['--remote-allow-system-access'],
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: FIREFOX_EXTENSION_UUID }),
      // 0 dark, 1 light: what web content (extension pages included) sees as prefers-color-scheme.
      ...(scheme ? { 'layout.css.prefers-color-scheme.content-override': scheme === 'dark' ? 0 : 1 } : {}),
    },
  });
  try {
    const id = await browser.installExtension(resolve(dir));
    if (id !== GECKO_ID) throw new Error(`Firefox installed ${id}, not ${GECKO_ID}`);
    const origin = `moz-extension://${FIREFOX_EXTENSION_UUID}`;
    return {
      name: 'firefox',
      browser,
      origin,
      async openExtensionPage(path) {
        const page = await browser.newPage();
        // Firefox sends no load event for moz-extension documents over BiDi: do not wait for
        // one, poll the document instead.
        await page.goto(`${origin}/${path}`, { waitUntil: [] });
        await waitForExtensionDocument(page, `${origin}/${path}`);
        return page;
      },
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/** Polls until the tab shows `url` fully parsed (page.url() stays about:blank in Firefox). */
export async function waitForExtensionDocument(page: Page, url: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const ready = await page
      .evaluate((expected) => location.href.startsWith(expected) && document.readyState === 'complete', url)
      .catch(() => false);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`${url} did not load within ${timeout} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/**
 * Reloads an extension page. A plain `page.reload()` waits for a load event Firefox never
 * sends for moz-extension documents, so navigate again without waiting and poll.
 */
export async function reloadExtensionPage(extension: ExtensionBrowser, page: Page, path: string): Promise<void> {
  if (extension.name === 'chromium') {
    await page.reload();
    return;
  }
  // Mark the old document so the poll cannot mistake it for the new one.
  await page.evaluate(() => {
    document.documentElement.dataset.e2eStale = 'true';
  });
  await page.goto(`${extension.origin}/${path}`, { waitUntil: [] });
  const deadline = Date.now() + 10_000;
  while (await page.evaluate(() => document.documentElement.dataset.e2eStale === 'true').catch(() => true)) {
    if (Date.now() > deadline) throw new Error(`${path} did not reload`);
    await new Promise((done) => setTimeout(done, 100));
  }
  await waitForExtensionDocument(page, `${extension.origin}/${path}`);
}

/**
 * Stops the extension's MV3 service worker (Chromium only), as Chromium does on its own after
 * 30 s idle: whatever the extension keeps only in memory is lost, and the next event starts a
 * fresh worker.
 */
export async function killServiceWorker(extension: ExtensionBrowser): Promise<void> {
  if (extension.name !== 'chromium') throw new Error('only Chromium exposes the extension service worker');
  const target = await extension.browser.waitForTarget(
    (candidate) => candidate.type() === 'service_worker' && candidate.url().startsWith(`${extension.origin}/`),
    { timeout: 10_000 },
  );
  const worker = await target.worker();
  if (!worker) throw new Error('the extension service worker target has no worker');
  const gone = new Promise<void>((done) => {
    const onDestroyed = (destroyed: Target) => {
      if (destroyed !== target) return;
      extension.browser.off('targetdestroyed', onDestroyed);
      done();
    };
    extension.browser.on('targetdestroyed', onDestroyed);
  });
  await worker.close();
  await gone;
}
