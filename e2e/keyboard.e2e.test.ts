// Issue 13, "How it must be checked": keyboard-only flows in Chromium — sign-in, revoking a
// session, and disabling (then enabling) a user in the console. Approving a pairing with the
// keyboard is part of extension.e2e.test.ts (PairPage.approve tabs to the button). Every control
// is reached with Tab from where the focus is and activated with Enter; nothing is clicked.
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { keepScreenshots, launchChromium } from './support/browser.js';
import { pressWithKeyboard, tabTo } from './support/keyboard.js';

const { backendUrl, chromium, artifacts } = inject('e2e');

/** Sign-in with the keyboard only: the provider's button, then the IdP's form. */
async function keyboardSignIn(page: Page, login: string, password: string): Promise<void> {
  await page.goto(`${backendUrl}/sign-in`);
  await Promise.all([page.waitForNavigation(), pressWithKeyboard(page, 'a[href^="/auth/dev/login"]')]);
  if (await page.$('input[name="login"]')) {
    await tabTo(page, 'input[name="login"]');
    await page.keyboard.type(login);
    await tabTo(page, 'input[name="password"]');
    await page.keyboard.type(password);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  }
  await page.waitForSelector('#sessions-heading');
}

describe('keyboard only (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium(chromium);
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await keepScreenshots(browser, artifacts, context.task.name);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('signs in, and revokes another session after the confirmation', async () => {
    const first = await (await browser.createBrowserContext()).newPage();
    await keyboardSignIn(first, 'bob@example.com', 'bob-password');
    expect(new URL(first.url()).pathname).toBe('/account');
    const second = await (await browser.createBrowserContext()).newPage();
    await keyboardSignIn(second, 'bob@example.com', 'bob-password');

    await first.reload();
    const other = await first.$eval('button[data-action="revoke"]', (button) => button.getAttribute('data-session-id') ?? '');
    const asked = new Promise<string>((resolve) =>
      first.once('dialog', (dialog) => {
        resolve(dialog.message());
        void dialog.accept();
      }),
    );
    await pressWithKeyboard(first, `button[data-action="revoke"][data-session-id="${other}"]`);
    expect(await asked).toContain('stops working at its next request');
    await first.waitForFunction((id) => !document.querySelector(`tr[data-session-id="${id}"]`), {}, other);
    await second.reload();
    expect(new URL(second.url()).pathname).toBe('/sign-in');
  });

  it('an admin disables a user through the confirmation page, and enables them again', async () => {
    const bob = await (await browser.createBrowserContext()).newPage();
    await keyboardSignIn(bob, 'bob@example.com', 'bob-password');
    const admin = await (await browser.createBrowserContext()).newPage();
    await keyboardSignIn(admin, 'alice@example.com', 'alice-password');
    await Promise.all([admin.waitForNavigation(), pressWithKeyboard(admin, '.topnav a[href="/admin"]')]);
    await tabTo(admin, 'input[name="q"]');
    await admin.keyboard.type('bob@');
    await Promise.all([admin.waitForNavigation(), admin.keyboard.press('Enter')]);
    await Promise.all([admin.waitForNavigation(), pressWithKeyboard(admin, 'a[href^="/admin/users/"]')]);

    for (const [action, status] of [
      ['disable', 'disabled'],
      ['enable', 'active'],
    ] as const) {
      await Promise.all([admin.waitForNavigation(), pressWithKeyboard(admin, `a[href$="/confirm?action=${action}"]`)]);
      await Promise.all([admin.waitForNavigation(), pressWithKeyboard(admin, '#confirm-submit')]);
      expect(await admin.$eval('#user-status', (element) => element.textContent)).toBe(status);
      if (action === 'disable') {
        await bob.reload();
        expect(new URL(bob.url()).pathname).toBe('/sign-in');
      }
    }
  });
});
