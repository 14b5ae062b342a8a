// Issue 12, "Done when": an admin invites an address outside the allowed domains, the invitee
// clicks the link in the caught mail and signs in through SSO; a person changes their display
// name. This suite runs its own backend (signup closed, only example.com allowed) with its own
// development IdP (which also knows carol@partner.test) and its own mail catcher.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDevIdp, DEMO_ACCOUNTS, type DevIdp } from '../scripts/dev-idp/index.mjs';
import { type MailCatcher, startMailCatcher } from '../scripts/mail-catcher/index.mjs';
import { freePort } from '../scripts/stack/index.mjs';
import { keepScreenshots, launchChromium } from './support/browser.js';
import { runSetup, startOwnBackend } from './support/own-backend.js';
import { checkEverywhere } from './support/page-checks.js';
import { SignInPage } from './support/pages.js';

const { chromium, artifacts, stackUrls } = inject('e2e');
const BOOTSTRAP = randomBytes(18).toString('base64url');
const CAROL = {
  sub: '3d9c1f5a-7e2b-4b6d-8a0f-1c2e3d4f5a6b',
  email: 'carol@partner.test',
  email_verified: true,
  name: 'Carol Partner',
  groups: [],
  password: 'carol-password',
};
const ALICE = DEMO_ACCOUNTS[0] as (typeof DEMO_ACCOUNTS)[number];

let browser: Browser;
let backend: ChildProcess | undefined;
let idp: DevIdp;
let mail: MailCatcher;
let url = '';

async function ssoSignIn(page: Page, account: { email: string; password: string }): Promise<void> {
  const idpPage = await new SignInPage(page).continueWith('Development IdP');
  await idpPage.submit(account.email, account.password);
}

describe('invitations and profile in a real browser', () => {
  beforeAll(async () => {
    const port = await freePort();
    url = `http://localhost:${port}`;
    mail = await startMailCatcher();
    idp = await createDevIdp({
      accounts: [...DEMO_ACCOUNTS, CAROL],
      clients: [
        { client_id: 'gatehouse-invite', client_secret: 'invite-secret-invite-secret', redirect_uris: [`${url}/auth/dev/callback`] },
      ],
    });
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      PORT: String(port),
      PUBLIC_URL: url,
      MONGODB_URL: `${stackUrls.mongoUrl}/e2e_invitations`,
      REDIS_URL: stackUrls.redisUrl,
      REDIS_KEY_PREFIX: 'invitations:',
      MASTER_KEY: randomBytes(32).toString('base64url'),
      FIRST_RUN_PASSWORD: BOOTSTRAP,
      DISABLE_SIGNUP: 'true',
      SMTP_URL: mail.smtpUrl,
      OIDC_PROVIDERS: 'dev',
      OIDC_DEV_ISSUER: idp.issuer,
      OIDC_DEV_CLIENT_ID: 'gatehouse-invite',
      OIDC_DEV_CLIENT_SECRET: 'invite-secret-invite-secret',
      OIDC_DEV_NAME: 'Development IdP',
      OIDC_DEV_SCOPES: 'openid email profile groups',
      OIDC_DEV_GROUPS_CLAIM: 'groups',
      OIDC_DEV_ADMIN_GROUPS: 'admins',
      OIDC_DEV_ALLOWED_DOMAINS: 'example.com',
      IMPERSONATION: 'admins',
    };
    backend = await startOwnBackend('invitations', env, artifacts);
    browser = await launchChromium(chromium);
    // Before anyone owns it, the first-run page is there: it gets the page check too (issue 13).
    const first = await browser.newPage();
    await first.goto(`${url}/setup`);
    expect(await checkEverywhere(first, 'setup', artifacts)).toEqual([]);
    await first.close();
    // Signup is closed: alice gets in as the owner set up at first run.
    await runSetup(url, { email: ALICE.email, name: ALICE.name, bootstrap: BOOTSTRAP });
  }, 120_000);
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await keepScreenshots(browser, artifacts, context.task.name);
  });
  afterAll(async () => {
    await browser?.close();
    backend?.kill('SIGTERM');
    await idp?.close();
    await mail?.close();
  });

  it('carol, outside the allowed domains, is refused; invited from the console, she follows the mailed link and signs in through SSO', async () => {
    const refusedContext = await browser.createBrowserContext();
    const refused = await refusedContext.newPage();
    await refused.goto(`${url}/sign-in`);
    await ssoSignIn(refused, CAROL);
    expect(await refused.content()).toContain('New accounts cannot be created here.');
    await refusedContext.close();

    // Alice, the owner, invites carol in the console.
    const adminContext = await browser.createBrowserContext();
    const admin = await adminContext.newPage();
    await admin.goto(`${url}/sign-in`);
    await ssoSignIn(admin, { email: ALICE.email, password: ALICE.password });
    await admin.goto(`${url}/account`);
    await Promise.all([admin.waitForNavigation(), admin.click('.topnav a[href="/admin"]')]);
    await Promise.all([admin.waitForNavigation(), admin.click('a[href="/admin/invitations"]')]);
    await admin.type('#invite-form input[name="email"]', CAROL.email);
    await Promise.all([admin.waitForNavigation(), admin.click('#invite-form button')]);
    expect(await admin.$eval('#admin-notice', (element) => element.textContent)).toContain('Invitation sent');
    expect(await admin.$eval('#invitations', (element) => element.textContent)).toContain(CAROL.email);

    // Carol opens the caught mail on the catcher's page and clicks the link.
    const carolContext = await browser.createBrowserContext();
    const carol = await carolContext.newPage();
    await carol.goto(mail.webUrl);
    const link = await carol.$('a[href*="/invite#"]');
    if (!link) throw new Error('no invitation link in the caught mail');
    await Promise.all([carol.waitForNavigation({ waitUntil: 'networkidle0' }), link.click()]);
    await carol.waitForFunction(() => window.location.pathname === '/invite/accept');
    expect(carol.url()).not.toContain('#');
    expect(await carol.content()).toContain(CAROL.email);
    expect(await checkEverywhere(carol, 'invite-accept', artifacts)).toEqual([]);
    await ssoSignIn(carol, CAROL);
    await carol.waitForSelector('#sessions-heading');
    expect(new URL(carol.url()).pathname).toBe('/account');
    expect(await carol.$eval('h1', (element) => element.textContent)).toBe('Carol Partner');

    // The console shows the invitation as accepted.
    await admin.goto(`${url}/admin/invitations`);
    expect(await admin.$eval('#invitations tr[data-status="accepted"]', (row) => row.textContent)).toContain(CAROL.email);

    // M1 in a browser: carol changes her display name on the account page.
    await carol.$eval('#profile-form input[name="name"]', (input) => {
      (input as HTMLInputElement).value = '';
    });
    await carol.type('#profile-form input[name="name"]', 'Carol P.');
    await carol.click('#profile-form button');
    await carol.waitForFunction(() => document.getElementById('account-status')?.textContent === 'Profile saved.');
    await carol.reload();
    expect(await carol.$eval('h1', (element) => element.textContent)).toBe('Carol P.');

    // Support access: alice views carol's account with a reason, sees the banner, stops.
    await admin.goto(`${url}/admin?q=carol`);
    await Promise.all([admin.waitForNavigation(), admin.click('a[href^="/admin/users/"]')]);
    await admin.type('#impersonate-form input[name="reason"]', 'Carol asked why her name looks wrong');
    await Promise.all([admin.waitForNavigation(), admin.click('#impersonate-form button')]);
    expect(new URL(admin.url()).pathname).toBe('/account');
    const banner = await admin.$eval('#impersonation-banner', (element) => element.textContent ?? '');
    expect(banner).toContain('Alice Admin');
    expect(banner).toContain('Carol P.');
    expect(await admin.$eval('h1', (element) => element.textContent)).toBe('Carol P.');
    expect(await checkEverywhere(admin, 'support-view', artifacts)).toEqual([]);
    await Promise.all([admin.waitForNavigation(), admin.click('#impersonation-banner button')]);
    expect(await admin.$eval('#admin-notice', (element) => element.textContent)).toContain('Support view stopped.');
    expect(await admin.$('#impersonation-banner')).toBeNull();

    // Carol sees it in her recent activity, with the reason.
    await carol.reload();
    const activity = await carol.$eval('#activity', (element) => element.textContent ?? '');
    expect(activity).toContain('An administrator viewed your account (support access)');
    expect(activity).toContain('Carol asked why her name looks wrong');
    await adminContext.close();
    await carolContext.close();
  }, 120_000);
});
