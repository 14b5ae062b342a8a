// Page objects for the extension's own pages, after the popup DOM contract (/tmp/contract.md,
// "Popup DOM contract"): the popup and the options page, opened in a normal tab.
import type { Page } from 'puppeteer-core';
import { type ExtensionBrowser, reloadExtensionPage } from './extension-browsers.js';

export type PopupState = 'loading' | 'not-configured' | 'not-paired' | 'pairing' | 'paired';

/** What the popup shows while a pairing waits for approval. */
export interface PendingPairing {
  userCode: string;
  fingerprint: string;
  /** verification_uri_complete: the pair page with the code filled in. */
  pairPageUrl: string;
}

/** One row of the popup's session list. */
export interface PopupSession {
  id: string;
  kind: string;
  current: boolean;
  text: string;
}

/** The extension's options page. */
export class OptionsPage {
  constructor(readonly page: Page) {}

  static async open(extension: ExtensionBrowser): Promise<OptionsPage> {
    const page = await extension.openExtensionPage('options.html');
    await page.waitForSelector('#backend-form');
    return new OptionsPage(page);
  }

  /** Saves the backend URL; answers the status line's result (`ok` or `error`) and text. */
  async saveBackendUrl(url: string): Promise<{ result: string; text: string }> {
    await this.page.waitForSelector('#backend-url');
    await this.page.$eval('#backend-url', (input) => {
      (input as HTMLInputElement).value = '';
    });
    await this.page.type('#backend-url', url);
    await this.page.click('#save');
    const status = await this.page.waitForSelector('#options-status[data-result]:not(:empty)');
    if (!status) throw new Error('the options page shows no status');
    return status.evaluate((element) => ({ result: element.getAttribute('data-result') ?? '', text: element.textContent ?? '' }));
  }
}

/** The toolbar popup (popup.html), opened in a tab as headless browsers have no toolbar. */
export class PopupPage {
  constructor(
    private readonly extension: ExtensionBrowser,
    readonly page: Page,
  ) {}

  static async open(extension: ExtensionBrowser): Promise<PopupPage> {
    const popup = new PopupPage(extension, await extension.openExtensionPage('popup.html'));
    // A confirm() before ending a session is fine; the person says yes.
    popup.page.on('dialog', (dialog) => void dialog.accept());
    await popup.page.waitForSelector('#app[data-state]');
    return popup;
  }

  /** Closes and opens the popup again, as a person does by clicking the toolbar button. */
  async reopen(): Promise<void> {
    await reloadExtensionPage(this.extension, this.page, 'popup.html');
    await this.page.waitForSelector('#app[data-state]');
  }

  state(): Promise<string> {
    return this.page.$eval('#app', (app) => app.getAttribute('data-state') ?? '');
  }

  async waitForState(state: PopupState, timeout = 10_000): Promise<void> {
    try {
      await this.page.waitForSelector(`#app[data-state="${state}"]`, { timeout });
    } catch (error) {
      const shown = await this.state().catch(() => 'unknown');
      throw new Error(`the popup did not reach ${state} within ${timeout} ms; it shows ${shown}: ${await this.message()}`, {
        cause: error,
      });
    }
  }

  /** The sentence in #message, empty when there is none. */
  message(): Promise<string> {
    return this.page
      .$eval('#message', (element) => ((element as HTMLElement).hidden ? '' : (element.textContent?.trim() ?? '')))
      .catch(() => '');
  }

  /** Clicks "Pair this browser" and reads what the popup asks the person to check. */
  async startPairing(): Promise<PendingPairing> {
    await this.page.click('#pair');
    await this.waitForState('pairing');
    await this.page.waitForFunction(() => /\S/.test(document.querySelector('#user-code')?.textContent ?? ''));
    return this.page.evaluate(() => ({
      userCode: document.querySelector('#user-code')?.textContent?.trim() ?? '',
      fingerprint: document.querySelector('#fingerprint')?.textContent?.trim() ?? '',
      pairPageUrl: document.querySelector('a#open-pair-page')?.getAttribute('href') ?? '',
    }));
  }

  sessions(): Promise<PopupSession[]> {
    return this.page.$$eval('ul#sessions > li[data-session-id]', (items) =>
      items.map((item) => ({
        id: item.getAttribute('data-session-id') ?? '',
        kind: item.getAttribute('data-kind') ?? '',
        current: item.getAttribute('data-current') === 'true',
        text: item.textContent?.trim() ?? '',
      })),
    );
  }

  /** Waits until the session list shows a row matching `predicate`. */
  async waitForSessions(predicate: (sessions: PopupSession[]) => boolean, timeout = 10_000): Promise<PopupSession[]> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const sessions = await this.sessions();
      if (predicate(sessions)) return sessions;
      if (Date.now() > deadline) throw new Error(`the popup's session list never matched; it shows ${JSON.stringify(sessions)}`);
      await new Promise((done) => setTimeout(done, 200));
    }
  }

  /** The audit actions listed under "Recent activity", newest first. */
  async activity(): Promise<string[]> {
    return this.page.$$eval('ul#activity > li', (items) => items.map((item) => item.getAttribute('data-action-name') ?? ''));
  }

  async accountEmail(): Promise<string> {
    return this.page.$eval('#account-email', (element) => element.textContent?.trim() ?? '');
  }

  /** Ends one session with its row's revoke button and the question's Yes; waits for the row to go. */
  async revokeSession(id: string): Promise<void> {
    await this.page.click(`ul#sessions > li[data-session-id="${id}"] button.revoke`);
    const question = await this.page.$eval(`ul#sessions > li[data-session-id="${id}"] .confirm`, (element) => element.textContent ?? '');
    if (!question.includes('stops working at its next request')) throw new Error(`unexpected question: ${question}`);
    await this.page.click(`ul#sessions > li[data-session-id="${id}"] button.confirm-revoke`);
    await this.page.waitForFunction(
      (sessionId) => !document.querySelector(`ul#sessions > li[data-session-id="${sessionId}"]`),
      { timeout: 10_000 },
      id,
    );
  }

  async refresh(): Promise<void> {
    await this.page.click('#refresh');
  }
}
