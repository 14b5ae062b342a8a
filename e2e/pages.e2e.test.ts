// Issue 13, "How it must be checked": every page at 1,280 and 390 px, light and dark, in Chromium:
// no horizontal overflow and no serious or critical accessibility violation (axe-core). Each
// page is also written to e2e/artifacts/screenshots/ for a reviewer to look at.
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { checkEverywhere } from './support/page-checks.js';
import { SignInPage } from './support/pages.js';

const { backendUrl, chromium, artifacts } = inject('e2e');
const checkPage = (page: Page, name: string) => checkEverywhere(page, name, artifacts);

describe('every page at desktop and phone width, light and dark (Chromium)', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchChromium(chromium);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the signed-out pages: sign-in, signed out, an unknown path', async () => {
    const context = await browser.createBrowserContext();
    page = await context.newPage();
    const problems: string[] = [];
    await page.goto(`${backendUrl}/sign-in`);
    problems.push(...(await checkPage(page, 'sign-in')));
    await page.goto(`${backendUrl}/sign-in?notice=signed-out`);
    problems.push(...(await checkPage(page, 'signed-out')));
    await page.goto(`${backendUrl}/no-such-page`);
    problems.push(...(await checkPage(page, 'not-found')));
    // The pages an emailed link opens (their token would be in the fragment).
    for (const [name, path] of [
      ['invite', '/invite?error=INVITATION_INVALID'],
      ['reset-password', '/reset-password'],
      ['confirm-email', '/confirm-email?error=EMAIL_LINK_INVALID'],
    ] as const) {
      await page.goto(`${backendUrl}${path}`);
      problems.push(...(await checkPage(page, name)));
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it('the signed-in pages of an admin: account, pair, console users, a user, audit, keys, invitations', async () => {
    const context = await browser.createBrowserContext();
    page = await context.newPage();
    const idp = await new SignInPage(await page.goto(`${backendUrl}/sign-in`).then(() => page)).continueWith('Development IdP');
    await idp.signIn('alice@example.com', 'alice-password');
    const problems: string[] = [];
    for (const [name, path] of [
      ['account', '/account'],
      ['pair', '/pair'],
      ['admin-users', '/admin'],
      ['admin-audit', '/admin/audit'],
      ['admin-keys', '/admin/keys'],
      ['admin-invitations', '/admin/invitations'],
    ] as const) {
      await page.goto(`${backendUrl}${path}`);
      problems.push(...(await checkPage(page, name)));
    }
    await page.goto(`${backendUrl}/admin`);
    await Promise.all([page.waitForNavigation(), page.click('a[href^="/admin/users/"]')]);
    problems.push(...(await checkPage(page, 'admin-user')));
    // Another person's page offers actions; each goes through a confirmation page. Bob signs
    // in first, in a browser of his own, so that he has an account.
    const bobContext = await browser.createBrowserContext();
    const bobPage = await bobContext.newPage();
    await (await new SignInPage(bobPage).open(backendUrl).then((signIn) => signIn.continueWith('Development IdP'))).signIn(
      'bob@example.com',
      'bob-password',
    );
    await bobContext.close();
    await page.goto(`${backendUrl}/admin?q=bob%40`);
    await Promise.all([page.waitForNavigation(), page.click('a[href^="/admin/users/"]')]);
    problems.push(...(await checkPage(page, 'admin-user-other')));
    await Promise.all([page.waitForNavigation(), page.click('a[href$="/confirm?action=disable"]')]);
    problems.push(...(await checkPage(page, 'admin-confirm')));
    expect(problems).toEqual([]);
    await context.close();
  });
});
