import { join } from 'node:path';
import type { Browser, BrowserContext } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { keepScreenshots, launchChromium } from './support/browser.js';
import { type AccountPage, SignInPage } from './support/pages.js';

const { backendUrl, chromium, artifacts } = inject('e2e');

/** A person in a browser: sign in through SSO, see the sessions, end them. */
describe('SSO sign-in and the account page in Chromium', () => {
  let browser: Browser;
  const people: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchChromium(chromium);
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await keepScreenshots(browser, artifacts, context.task.name);
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function signInInNewBrowser(login: string, password: string): Promise<AccountPage> {
    const context = await browser.createBrowserContext();
    people.push(context);
    const page = await context.newPage();
    const signIn = await new SignInPage(page).open(backendUrl);
    const idp = await signIn.continueWith('Development IdP');
    return idp.signIn(login, password);
  }

  it('signs in at the development IdP and lands on the account page with this session', async () => {
    const account = await signInInNewBrowser('alice@example.com', 'alice-password');
    expect(account.page.url()).toBe(`${backendUrl}/account`);
    expect(await account.heading()).toBe('Alice Admin');
    const sessions = await account.sessions();
    expect(sessions.filter((session) => session.current)).toHaveLength(1);
    expect(sessions.find((session) => session.current)?.text).toContain('Chrome');
    await account.page.screenshot({ path: join(artifacts, 'account-page.png'), fullPage: true });
  });

  it('revokes another browser’s session with its button; that browser is signed out at once', async () => {
    const laptop = await signInInNewBrowser('bob@example.com', 'bob-password');
    const phone = await signInInNewBrowser('bob@example.com', 'bob-password');
    const phoneSession = (await phone.sessions()).find((session) => session.current);
    await laptop.page.reload();
    if (!phoneSession) throw new Error('the phone has no current session');
    await laptop.revoke(phoneSession.id);

    await phone.page.goto(`${backendUrl}/account`);
    expect(phone.page.url()).toBe(`${backendUrl}/sign-in?return_to=%2Faccount`);
    await laptop.page.reload();
    expect((await laptop.sessions()).map((session) => session.id)).not.toContain(phoneSession.id);
  });

  it('signs out everywhere else, keeping this browser, then signs out', async () => {
    const first = await signInInNewBrowser('bob@example.com', 'bob-password');
    const second = await signInInNewBrowser('bob@example.com', 'bob-password');
    expect(await second.signOutEverywhereElse()).toMatch(/Signed out of \d+ other session/);

    await first.page.goto(`${backendUrl}/account`);
    expect(first.page.url()).toContain('/sign-in');
    await second.page.reload();
    expect((await second.sessions()).every((session) => session.current)).toBe(true);

    await second.signOut();
    expect(second.page.url()).toBe(`${backendUrl}/sign-in?notice=signed-out`);
    expect(await second.page.$eval('.banner-info', (element) => element.textContent)).toBe('You are signed out.');
    await second.page.goto(`${backendUrl}/account`);
    expect(second.page.url()).toContain('/sign-in');
  });
});
