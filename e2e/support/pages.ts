import type { Page } from 'puppeteer-core';
import { pressWithKeyboard } from './keyboard.js';

/** Gatehouse's sign-in page. */
export class SignInPage {
  constructor(private readonly page: Page) {}

  async open(backendUrl: string): Promise<this> {
    await this.page.goto(`${backendUrl}/sign-in`);
    return this;
  }

  async continueWith(providerName: string): Promise<DevIdpLoginPage> {
    const [link] = await this.page.$$(`xpath/.//a[contains(., "Continue with ${providerName}")]`);
    if (!link) throw new Error(`no "Continue with ${providerName}" button`);
    await Promise.all([this.page.waitForNavigation(), link.click()]);
    return new DevIdpLoginPage(this.page);
  }
}

/** The development identity provider's login form. */
export class DevIdpLoginPage {
  constructor(private readonly page: Page) {}

  async signIn(login: string, password: string): Promise<AccountPage> {
    await this.submit(login, password);
    await this.page.waitForSelector('#sessions-heading');
    return new AccountPage(this.page);
  }

  /**
   * Signs in and follows the redirects back to Gatehouse, wherever `return_to` points. When the
   * IdP still has a session of its own it shows no form and the person lands straight back.
   */
  async submit(login: string, password: string): Promise<void> {
    if (!(await this.page.$('input[name="login"]'))) return;
    await this.page.type('input[name="login"]', login);
    await this.page.type('input[name="password"]', password);
    await Promise.all([this.page.waitForNavigation(), this.page.click('#submit')]);
  }
}

/** The account page: who you are and your sessions. */
export class AccountPage {
  constructor(readonly page: Page) {}

  heading(): Promise<string> {
    return this.page.$eval('h1', (element) => element.textContent ?? '');
  }

  /** Session rows as the person sees them. */
  sessions(): Promise<{ id: string; text: string; current: boolean }[]> {
    return this.page.$$eval('tr[data-session-id]', (rows) =>
      rows.map((row) => ({
        id: row.getAttribute('data-session-id') ?? '',
        text: row.textContent ?? '',
        current: row.querySelector('.badge') !== null,
      })),
    );
  }

  /** Clicks, and accepts the confirmation that says what will stop working; returns its text. */
  private async confirmClick(selector: string): Promise<string> {
    const dialog = new Promise<string>((resolve) =>
      this.page.once('dialog', (asked) => {
        resolve(asked.message());
        void asked.accept();
      }),
    );
    await this.page.click(selector);
    return dialog;
  }

  async revoke(sessionId: string): Promise<void> {
    const question = await this.confirmClick(`button[data-action="revoke"][data-session-id="${sessionId}"]`);
    if (!question.includes('stops working')) throw new Error(`unexpected confirmation: ${question}`);
    await this.page.waitForFunction((id) => !document.querySelector(`tr[data-session-id="${id}"]`), {}, sessionId);
  }

  async signOutEverywhereElse(): Promise<string> {
    const question = await this.confirmClick('button[data-action="revoke-others"]');
    if (!question.includes('stay signed in')) throw new Error(`unexpected confirmation: ${question}`);
    await this.page.waitForFunction(() => !document.getElementById('account-status')?.hidden);
    return this.page.$eval('#account-status', (element) => element.textContent ?? '');
  }

  async signOut(): Promise<void> {
    await Promise.all([this.page.waitForNavigation(), this.page.click('form[action="/auth/logout"] button')]);
  }
}

/** The backend's pair page, where a signed-in person confirms a device's pairing code. */
export class PairPage {
  constructor(readonly page: Page) {}

  /**
   * The code the page holds: in the lookup form, or (a code that came with the link is looked up
   * at once by the page's script) on the confirmation page.
   */
  async userCode(): Promise<string> {
    await this.settled();
    return this.page.$eval('input[name="user_code"]', (input) => (input as HTMLInputElement).value);
  }

  /** Submits the code unless the page did it itself; the confirm page shows who is asking and the key's phrase. */
  async continue(): Promise<void> {
    await this.settled();
    if (!(await this.page.$('#pair-phrase'))) await this.page.click('#pair-continue');
    await this.page.waitForSelector('#pair-phrase');
  }

  /** Waits until a lookup the page started by itself has landed on the confirmation. */
  private async settled(): Promise<void> {
    await this.page.waitForSelector('#pair-phrase, form#pair-lookup:not([data-auto])');
  }

  phrase(): Promise<string> {
    return this.page.$eval('#pair-phrase', (element) => element.textContent?.trim() ?? '');
  }

  /** Approves with the keyboard only: Tab to the button, Enter (issue 13, keyboard flows). */
  async approve(): Promise<string> {
    await Promise.all([this.page.waitForNavigation(), pressWithKeyboard(this.page, '#pair-approve')]);
    return this.outcome();
  }

  async decline(): Promise<string> {
    await this.page.click('#pair-decline');
    return this.outcome();
  }

  private async outcome(): Promise<string> {
    const outcome = await this.page.waitForSelector('#pair-outcome[data-outcome]');
    return (await outcome?.evaluate((element) => element.getAttribute('data-outcome'))) ?? '';
  }
}
