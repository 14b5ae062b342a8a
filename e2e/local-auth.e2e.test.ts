// Issue 12, "Done when": the owner signs in with a password and TOTP while the identity provider
// is stopped. This suite runs its own backend (LOCAL_LOGIN=owner) against its own development
// IdP, which it stops before the owner signs in.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDevIdp } from '../scripts/dev-idp/index.mjs';
import { freePort } from '../scripts/stack/index.mjs';
import { keepScreenshots, launchChromium } from './support/browser.js';
import { startOwnBackend } from './support/own-backend.js';
import { checkEverywhere } from './support/page-checks.js';

const { chromium, artifacts, stackUrls } = inject('e2e');
const repo = fileURLToPath(new URL('..', import.meta.url));
const OWNER = 'owner@example.com';
const PASSWORD = `break-glass ${randomBytes(9).toString('base64url')}`;
const BOOTSTRAP = randomBytes(18).toString('base64url');

let browser: Browser;
let backend: ChildProcess | undefined;
let url = '';
let env: Record<string, string | undefined> = {};

async function cli(args: string[], input: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=gatehouse-source', 'server/src/cli/main.ts', ...args], {
    cwd: repo,
    env,
  });
  child.stdin.end(input);
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    out += chunk;
  });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`gatehouse ${args.join(' ')} failed: ${out}`);
  return out;
}

const codeNow = (secret: string, offsetMs = 0) =>
  new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + offsetMs });

async function submitPassword(page: Page): Promise<void> {
  await page.goto(`${url}/sign-in`);
  await page.type('form[action="/sign-in/password"] input[name="email"]', OWNER);
  await page.type('form[action="/sign-in/password"] input[name="password"]', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/sign-in/password"] button')]);
}

async function submitCode(page: Page, code: string): Promise<void> {
  await page.type('form[action="/sign-in/totp"] input[name="code"]', code);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/sign-in/totp"] button')]);
}

describe('break-glass: the owner signs in with a password and TOTP while the IdP is down', () => {
  beforeAll(async () => {
    const port = await freePort();
    url = `http://localhost:${port}`;
    const idp = await createDevIdp({
      clients: [{ client_id: 'gatehouse-local', client_secret: 'local-secret-local-secret', redirect_uris: [`${url}/auth/dev/callback`] }],
    });
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      PORT: String(port),
      PUBLIC_URL: url,
      MONGODB_URL: `${stackUrls.mongoUrl}/e2e_local_auth`,
      REDIS_URL: stackUrls.redisUrl,
      REDIS_KEY_PREFIX: 'local-auth:',
      MASTER_KEY: randomBytes(32).toString('base64url'),
      FIRST_RUN_PASSWORD: BOOTSTRAP,
      LOCAL_LOGIN: 'owner',
      OIDC_PROVIDERS: 'dev',
      OIDC_DEV_ISSUER: idp.issuer,
      OIDC_DEV_CLIENT_ID: 'gatehouse-local',
      OIDC_DEV_CLIENT_SECRET: 'local-secret-local-secret',
      OIDC_DEV_NAME: 'Development IdP',
      OIDC_HTTP_TIMEOUT_MS: '1000',
    };
    backend = await startOwnBackend('local-auth', env, artifacts, { email: OWNER, name: 'The Owner', bootstrap: BOOTSTRAP });
    await cli(['users', 'set-password', OWNER], `${PASSWORD}\n`);
    // The identity provider goes down: SSO cannot work any more.
    await idp.close();
    browser = await launchChromium(chromium);
  }, 120_000);
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await keepScreenshots(browser, artifacts, context.task.name);
  });
  afterAll(async () => {
    await browser?.close();
    backend?.kill('SIGTERM');
  });

  it('enrols TOTP on the first password sign-in, then signs in again with a fresh code', async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    // SSO is down: the provider's button leads to an error page, not a session.
    const sso = await page.goto(`${url}/auth/dev/login`);
    expect(sso?.status()).toBeGreaterThanOrEqual(500);

    await submitPassword(page);
    expect(new URL(page.url()).pathname).toBe('/sign-in/totp');
    expect(await page.$eval('img.qr', (img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    expect(await checkEverywhere(page, 'totp-enrol', artifacts)).toEqual([]);
    const secret = await page.$eval('[data-totp-secret]', (element) => element.textContent ?? '');
    await submitCode(page, codeNow(secret));
    expect(await page.$eval('h1', (element) => element.textContent)).toBe('Save your recovery codes');
    expect(await page.$$eval('.recovery-codes li', (items) => items.length)).toBe(10);
    const recoveryCode = await page.$eval('.recovery-codes li code', (element) => element.textContent ?? '');
    expect(await checkEverywhere(page, 'recovery-codes', artifacts)).toEqual([]);
    await Promise.all([page.waitForNavigation(), page.click('a[href="/account"]')]);
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(await page.content()).toContain('The Owner');
    await context.close();

    // A second browser: password, then the next step's code (the first one is spent).
    const second = await browser.createBrowserContext();
    const next = await second.newPage();
    await submitPassword(next);
    expect(new URL(next.url()).pathname).toBe('/sign-in/totp');
    await submitCode(next, codeNow(secret, 30_000));
    expect(new URL(next.url()).pathname).toBe('/account');

    // The account page's own form changes the password; the page comes back with the new session.
    expect(await next.$eval('#totp-state', (element) => element.textContent)).toContain('Two-factor authentication is on');
    expect(await checkEverywhere(next, 'account-local', artifacts)).toEqual([]);
    const newPassword = `${PASSWORD} changed`;
    await next.type('#password-change-form input[name="currentPassword"]', PASSWORD);
    await next.type('#password-change-form input[name="newPassword"]', newPassword);
    await Promise.all([next.waitForNavigation(), next.click('#password-change-form button')]);
    expect(new URL(next.url()).pathname).toBe('/account');
    await second.close();

    // The old password is refused; the new one (and the next code) signs in.
    const third = await browser.createBrowserContext();
    const last = await third.newPage();
    await submitPassword(last);
    expect(new URL(last.url()).pathname).toBe('/sign-in');
    await last.goto(`${url}/sign-in`);
    await last.type('form[action="/sign-in/password"] input[name="email"]', OWNER);
    await last.type('form[action="/sign-in/password"] input[name="password"]', newPassword);
    await Promise.all([last.waitForNavigation(), last.click('form[action="/sign-in/password"] button')]);
    // Both codes of this time window are spent: a recovery code instead.
    await submitCode(last, recoveryCode);
    expect(new URL(last.url()).pathname).toBe('/account');
    await third.close();
  }, 120_000);
});
