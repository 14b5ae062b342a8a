import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevIdp, type DevIdp, signInAtDevIdp } from '../../../scripts/dev-idp/index.mjs';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { ALICE, BOB, callback, cookieFrom, SESSION_COOKIE, startLogin } from '../../test/sign-in.js';

const CLIENT_ID = 'gatehouse-bcl';

/**
 * Back-channel logout from the real development IdP (oidc-provider): Gatehouse listens on a
 * real port so the provider can POST its logout token, the provider signs with its own keys,
 * and after it ends its session the Gatehouse session cookie is refused at the next request.
 */
describe('back-channel logout from the development IdP', () => {
  let idp: DevIdp;
  let t: TestApp;
  let server: Server;
  let handler: RequestListener = (_req, res) => res.writeHead(503).end();

  beforeAll(async () => {
    // Bound first: the provider must know the logout URI before the app (which needs the
    // provider's issuer) exists.
    server = createServer((req, res) => handler(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const clientSecret = randomBytes(24).toString('base64url');
    idp = await createDevIdp({
      port: 0,
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: clientSecret,
          redirect_uris: [`${TEST_ORIGIN}/auth/bcl/callback`],
          backchannel_logout_uri: `http://127.0.0.1:${port}/auth/bcl/backchannel-logout`,
          backchannel_logout_session_required: true,
        },
      ],
    });
    t = await createTestApp({
      OIDC_PROVIDERS: 'dev,bcl',
      OIDC_BCL_ISSUER: idp.issuer,
      OIDC_BCL_CLIENT_ID: CLIENT_ID,
      OIDC_BCL_CLIENT_SECRET: clientSecret,
      OIDC_BCL_SCOPES: 'openid email profile',
    });
    handler = t.callback;
  });

  afterAll(async () => {
    server?.close();
    server?.closeAllConnections();
    await t?.close();
    await idp?.close();
  });

  async function signInAtBcl(user = ALICE): Promise<{ cookie: string; sessionId: string; sid: string; sub: string }> {
    const started = await startLogin(t, { provider: 'bcl' });
    const back = new URL(await signInAtDevIdp(started.location.href, user));
    const response = await callback(t, back, started.loginCookie);
    expect(response.status, response.text).toBe(302);
    const cookie = cookieFrom(response.headers['set-cookie'], SESSION_COOKIE);
    if (!cookie) throw new Error('no session cookie');
    const entry = await t.db.collection('audit').findOne({ requestId: response.headers['x-request-id'], action: 'login.succeeded' });
    const userId = String(entry?.actor ?? '').slice('user:'.length);
    const session = await t.db.collection('sessions').find({ userId, providerId: 'bcl' }).sort({ createdAt: -1 }).limit(1).next();
    const identity = await t.db.collection('identities').findOne({ userId, iss: idp.issuer });
    expect(session?.upstreamSid, 'the provider sid is recorded at sign-in').toEqual(expect.any(String));
    return { cookie, sessionId: String(session?._id), sid: String(session?.upstreamSid), sub: String(identity?.sub) };
  }

  it('ends the Gatehouse session when the person signs out at the IdP (end_session)', async () => {
    const browser = new IdpBrowser(new URL(idp.issuer).origin);
    const started = await startLogin(t, { provider: 'bcl' });
    const back = await browser.signIn(started.location, ALICE);
    const response = await callback(t, back, started.loginCookie);
    expect(response.status, response.text).toBe(302);
    const cookie = cookieFrom(response.headers['set-cookie'], SESSION_COOKIE);
    if (!cookie) throw new Error('no session cookie');
    expect((await t.http.get('/api/v1/me').set('Cookie', cookie)).status).toBe(200);

    // RP-initiated logout at the IdP as the person's browser does it: the confirmation page,
    // then its form. oidc-provider sends the logout tokens before it answers.
    await browser.endSession(`${idp.issuer}/session/end`);

    expect((await t.http.get('/api/v1/me').set('Cookie', cookie)).status).toBe(401);
    const received = await t.db.collection('audit').find({ action: 'backchannel_logout.received' }).toArray();
    expect(received).toEqual([expect.objectContaining({ outcome: 'success', details: { provider: 'bcl', reason: 'sid', count: 1 } })]);
  });

  it('ends the session whose sid the provider logged out, and only that one', async () => {
    const alice = await signInAtBcl(ALICE);
    const bob = await signInAtBcl(BOB);
    expect((await t.http.get('/api/v1/me').set('Cookie', alice.cookie)).status).toBe(200);

    // What oidc-provider does for each client when its session ends (end_session, or an
    // admin killing the session): sign a logout token and POST it to backchannel_logout_uri.
    // It rejects unless Gatehouse answers 200.
    const client = await idp.provider.Client.find(CLIENT_ID);
    await client?.backchannelLogout(alice.sub, alice.sid);

    expect((await t.http.get('/api/v1/me').set('Cookie', alice.cookie)).status).toBe(401);
    expect((await t.http.get('/api/v1/me').set('Cookie', bob.cookie)).status).toBe(200);
    const record = await t.db.collection('sessions').findOne({ _id: alice.sessionId as never });
    expect(record).toMatchObject({ revokeReason: 'backchannel_logout', revokedAt: expect.any(Date) });
    const entry = await t.db.collection('audit').findOne({ action: 'backchannel_logout.received' }, { sort: { time: -1 } });
    expect(entry).toMatchObject({ outcome: 'success', details: { provider: 'bcl', reason: 'sid', count: 1 } });
  });
});

/** A person's browser at the dev IdP: fetch with a cookie jar scoped to the IdP's origin. */
class IdpBrowser {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  constructor(private readonly origin: string) {}

  /** Walks the authorization request through the login form; returns the redirect back to Gatehouse. */
  async signIn(authorizationUrl: URL, user: { login: string; password: string }): Promise<URL> {
    let url = authorizationUrl;
    let form: string | undefined;
    for (let step = 0; step < 15; step++) {
      const res = await this.fetch(url, form);
      form = undefined;
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        url = new URL(location, url);
        if (url.origin !== this.origin) return url;
        continue;
      }
      const html = await res.text();
      const action = /<form[^>]*\baction="([^"]+)"/.exec(html)?.[1];
      if (res.status !== 200 || !action) throw new Error(`IdP answered ${res.status} at ${url.pathname}`);
      url = new URL(action.replaceAll('&amp;', '&'), url);
      form = new URLSearchParams({ login: user.login, password: user.password }).toString();
    }
    throw new Error('too many steps at the IdP');
  }

  /** GET end_session, then submit its confirmation form with `logout=yes`. */
  async endSession(endSessionUrl: string): Promise<void> {
    const page = await this.fetch(new URL(endSessionUrl));
    const html = await page.text();
    expect(page.status, html).toBe(200);
    const formTag = /<form[^>]*id="op.logoutForm"[^>]*>/.exec(html)?.[0] ?? '';
    const action = /\baction="([^"]+)"/.exec(formTag)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !xsrf) throw new Error('no logout form at the IdP');
    const res = await this.fetch(
      new URL(action.replaceAll('&amp;', '&'), endSessionUrl),
      new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    );
    expect(res.status).toBeLessThan(400);
    await res.body?.cancel();
  }

  private async fetch(url: URL, form?: string): Promise<Response> {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(url), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form,
    });
    for (const header of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = header.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attrs.find((attr) => attr.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attrs.some((attr) => /^expires=/i.test(attr) && Date.parse(attr.slice(8)) <= Date.now());
      if (value === '' || expired) this.cookies.delete(`${name};${path}`);
      else this.cookies.set(`${name};${path}`, { name, value, path });
    }
    return res;
  }

  private cookieHeader(url: URL): string {
    return [...this.cookies.values()]
      .filter(({ path }) => url.pathname === path || url.pathname.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`)
      .join('; ');
  }
}
