// The admin console (issue #6): server-rendered pages over the admin service, driven the way a
// browser without JavaScript drives them — follow the page's links, submit the page's forms —
// against the real stack. Every change goes through a confirmation page and a same-origin,
// CSRF-bound POST; refusals are banners; the audit trail filters and exports; owners rotate keys.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import type { User } from '../users/index.js';

type Browser = { user: User; cookie: string; sessionId: string };

const decode = (text: string) =>
  text
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");

/** The page's POST form: where it goes and its hidden fields (csrf, action). */
function postForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('no POST form on the page');
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    fields[match[1] ?? ''] = decode(match[2] ?? '');
  return { action: decode(action), fields };
}

function linkTo(html: string, pattern: RegExp): string {
  for (const match of html.matchAll(/href="([^"]+)"/g)) {
    const href = decode(match[1] ?? '');
    if (pattern.test(href)) return href;
  }
  throw new Error(`no link matching ${pattern}`);
}

describe('admin console', () => {
  let t: TestApp;
  let owner: Browser;
  let admin: Browser;
  let plain: Browser;

  async function browser(fields: Parameters<typeof createUser>[1]): Promise<Browser> {
    const user = await createUser(t, fields);
    const { cookie, sessionId } = await startBrowserSession(t, user);
    return { user, cookie, sessionId };
  }
  const get = (who: Browser, path: string) => t.http.get(path).set('Cookie', who.cookie);
  const submit = (who: Browser, action: string, fields: Record<string, string>, origin: string | null = TEST_ORIGIN) => {
    const request = t.http.post(action).set('Cookie', who.cookie).type('form');
    if (origin) request.set('Origin', origin);
    return request.send(fields);
  };

  /** Opens the user's page, follows the action's button to the confirmation, and submits it. */
  async function confirmAction(who: Browser, targetId: string, action: string) {
    const page = await get(who, `/admin/users/${targetId}`);
    expect(page.status).toBe(200);
    const confirmHref = linkTo(page.text, new RegExp(`/confirm\\?action=${action}$`));
    const confirm = await get(who, confirmHref);
    expect(confirm.status).toBe(200);
    const statusShown = await statusOf(targetId); // showing the confirmation changes nothing
    const { action: to, fields } = postForm(confirm.text);
    return { confirm, statusShown, response: await submit(who, to, fields) };
  }
  const statusOf = async (id: string) => (await t.services.users.findById(id))?.status;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await browser({ name: 'Olga Owner', roles: ['admin', 'owner', 'user'] });
    admin = await browser({ name: 'Ada Admin', roles: ['admin', 'user'] });
    plain = await browser({ name: 'Paul Plain' });
  });
  afterAll(() => t?.close());

  it('sends a signed-out visitor to sign-in and back, and shows a plain user a 403 page on every console page', async () => {
    const signedOut = await t.http.get('/admin');
    expect(signedOut.status).toBe(302);
    expect(signedOut.headers.location).toBe('/sign-in?return_to=%2Fadmin');
    for (const path of ['/admin', `/admin/users/${admin.user._id}`, '/admin/audit', '/admin/audit/export?format=csv', '/admin/keys']) {
      const response = await get(plain, path);
      expect(response.status, path).toBe(403);
      expect(response.type).toBe('text/html');
      expect(response.text).toContain('You are not allowed to do this.');
    }
    const target = await createUser(t);
    const forged = await submit(plain, `/admin/users/${target._id}/actions`, {
      csrf: t.services.csrf.forSession(plain.sessionId),
      action: 'disable',
    });
    expect(forged.status).toBe(403);
    expect(await statusOf(target._id)).toBe('active');
  });

  it('lets an admin search by name prefix, filter by status and page through the results', async () => {
    const zelda = await createUser(t, { name: 'Zelda Searchable' });
    await createUser(t, { name: 'Zeno Searchable', status: 'disabled' });
    const found = await get(admin, '/admin?q=zel');
    expect(found.status).toBe(200);
    expect(found.headers['cache-control']).toBe('no-store');
    expect(found.text).toContain(`data-user-id="${zelda._id}"`);
    expect(found.text).toContain('Zelda Searchable');
    expect(found.text).not.toContain('Zeno Searchable');
    expect(found.text).not.toContain('Olga Owner');

    const disabled = await get(admin, '/admin?q=ze&status=disabled&role=');
    expect(disabled.text).toContain('Zeno Searchable');
    expect(disabled.text).not.toContain('Zelda Searchable');

    const first = await get(admin, '/admin?q=ze&status=&limit=1');
    const next = linkTo(first.text, /cursor=/);
    expect(next).toContain('q=ze');
    const second = await get(admin, next);
    expect(second.status).toBe(200);
    const names = (html: string) => [...html.matchAll(/data-user-id="([^"]+)"/g)].map((m) => m[1]);
    expect(names(first.text)).toHaveLength(1);
    expect(names(second.text)).toHaveLength(1);
    expect(names(second.text)).not.toEqual(names(first.text));

    expect((await get(admin, '/admin?status=gone')).status).toBe(400);
  });

  it('disables a user through the confirmation page: the account stops at once and the page says so', async () => {
    const target = await browser({ name: 'Dora Disabled' });
    await t.services.sessions.createPairedSession(
      target.user,
      { requestId: 'test', ip: '127.0.0.1', userAgent: 'vitest' },
      {
        pairingId: 'pairing-1',
        clientId: 'gatehouse-extension',
        jkt: 'x'.repeat(43),
        scopes: ['profile:read'],
        device: 'Chrome on Linux',
        lifetimeMs: 3_600_000,
      },
    );
    expect((await t.http.get('/api/v1/me').set('Cookie', target.cookie)).status).toBe(200);
    const page = await get(admin, `/admin/users/${target.user._id}`);
    expect(page.text).toContain('data-kind="extension"');
    expect(page.text).toContain('Paired extension');
    expect(page.text).not.toContain('127.0.0.1');

    const { confirm, statusShown, response } = await confirmAction(admin, target.user._id, 'disable');
    expect(confirm.text).toContain('Disable Dora Disabled?');
    expect(confirm.text).toContain('signed out everywhere at once');
    expect(statusShown).toBe('active');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`/admin/users/${target.user._id}?done=disable`);

    expect(await statusOf(target.user._id)).toBe('disabled');
    expect((await t.http.get('/api/v1/me').set('Cookie', target.cookie)).status).toBe(401);
    expect(await t.db.collection('sessions').countDocuments({ userId: target.user._id, revokedAt: null })).toBe(0);
    const after = await get(admin, response.headers.location as string);
    expect(after.text).toContain('id="admin-notice" data-kind="info"');
    expect(after.text).toContain('Account disabled.');
    const audited = await t.db.collection('audit').findOne({ action: 'user.disabled', target: `user:${target.user._id}` });
    expect(audited?.actor).toBe(`user:${admin.user._id}`);

    // Enable, then sign out everywhere, the same way.
    expect((await confirmAction(admin, target.user._id, 'enable')).response.status).toBe(303);
    expect(await statusOf(target.user._id)).toBe('active');
    const fresh = await startBrowserSession(t, target.user);
    expect((await confirmAction(admin, target.user._id, 'revoke-all')).response.status).toBe(303);
    expect((await t.http.get('/api/v1/me').set('Cookie', fresh.cookie)).status).toBe(401);
    expect(await statusOf(target.user._id)).toBe('active');
  });

  it('refuses a POST without the CSRF token, with another session’s token, or from a foreign origin, and changes nothing', async () => {
    const target = await browser({ name: 'Cleo Csrf' });
    const action = `/admin/users/${target.user._id}/actions`;
    const good = t.services.csrf.forSession(admin.sessionId);
    const attempts = [
      submit(admin, action, { action: 'ban' }),
      submit(admin, action, { action: 'ban', csrf: t.services.csrf.forSession(target.sessionId) }),
      submit(admin, action, { action: 'ban', csrf: good }, 'https://evil.example'),
      submit(admin, action, { action: 'ban', csrf: good }, 'null'),
      submit(admin, action, { action: 'ban', csrf: good }, null),
      t.http.get(`${action}?action=ban&csrf=${good}`).set('Cookie', admin.cookie),
    ];
    const responses = await Promise.all(attempts);
    expect(responses.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 405]);
    expect(responses[0]?.text).toContain('The form has expired.');
    expect(await statusOf(target.user._id)).toBe('active');
    expect((await t.http.get('/api/v1/me').set('Cookie', target.cookie)).status).toBe(200);
    expect(await t.db.collection('audit').countDocuments({ target: `user:${target.user._id}` })).toBe(0);
    // The confirmation page is a GET and never acts.
    await get(admin, `/admin/users/${target.user._id}/confirm?action=ban`);
    expect(await statusOf(target.user._id)).toBe('active');
  });

  it('shows an admin a clear banner, not a 500, when the rules refuse: an owner, another admin, oneself, a wrong state', async () => {
    const csrfOf = t.services.csrf.forSession(admin.sessionId);
    const other = await browser({ name: 'Alan Admin', roles: ['admin', 'user'] });
    // Actions that cannot apply are not offered at all (issue 13 item 9) …
    for (const id of [owner.user._id, other.user._id, admin.user._id]) {
      const page = await get(admin, `/admin/users/${id}`);
      expect(page.text, id).not.toMatch(/\/confirm\?action=(disable|ban|revoke-all)/);
    }
    // … and a form posted anyway is refused in words, changing nothing.
    const onOwner = await submit(admin, `/admin/users/${owner.user._id}/actions`, { action: 'ban', csrf: csrfOf });
    expect(onOwner.status).toBe(403);
    expect(onOwner.text).toContain('id="admin-notice" data-kind="error"');
    expect(onOwner.text).toContain('Olga Owner is an owner.');
    expect(onOwner.text).toContain('Nothing was changed.');
    expect(await statusOf(owner.user._id)).toBe('active');

    const onAdmin = await submit(admin, `/admin/users/${other.user._id}/actions`, { action: 'revoke-all', csrf: csrfOf });
    expect(onAdmin.status).toBe(403);
    expect(onAdmin.text).toContain('Only an owner can act on another admin.');
    expect((await t.http.get('/api/v1/me').set('Cookie', other.cookie)).status).toBe(200);

    const onSelf = await submit(admin, `/admin/users/${admin.user._id}/actions`, { action: 'disable', csrf: csrfOf });
    expect(onSelf.status).toBe(403);
    expect(onSelf.text).toContain('your own account');

    const person = await createUser(t, { name: 'Sam State' });
    const csrf = t.services.csrf.forSession(admin.sessionId);
    const wrong = await submit(admin, `/admin/users/${person._id}/actions`, { action: 'unban', csrf });
    expect(wrong.status).toBe(409);
    expect(wrong.text).toContain('Sam State’s account is active now');

    const byAdmin = await submit(admin, `/admin/users/${person._id}/actions`, { action: 'grant-admin', csrf });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.text).toContain('Only owners can grant or take away the admin role.');
    expect((await t.services.users.findById(person._id))?.roles).toEqual(['user']);
    expect((await get(admin, `/admin/users/${person._id}`)).text).not.toContain('Make admin');

    const missing = await submit(admin, '/admin/users/no-such-user-1/actions', { action: 'disable', csrf });
    expect(missing.status).toBe(404);
  });

  it('lets an owner grant and take away the admin role through the console', async () => {
    const person = await browser({ name: 'Gita Granted' });
    const { confirm, response } = await confirmAction(owner, person.user._id, 'grant-admin');
    expect(confirm.text).toContain('Make Gita Granted an admin?');
    expect(response.status).toBe(303);
    expect((await t.services.users.findById(person.user._id))?.roles).toEqual(['admin', 'user']);
    expect((await get(person, '/admin')).status).toBe(200); // the new admin's next request already counts

    expect((await confirmAction(owner, person.user._id, 'revoke-admin')).response.status).toBe(303);
    expect((await t.services.users.findById(person.user._id))?.roles).toEqual(['user']);
    expect((await get(person, '/admin')).status).toBe(403);
    const changes = await t.db
      .collection('audit')
      .find({ action: 'role.changed', target: `user:${person.user._id}` })
      .toArray();
    expect(changes.map((entry) => entry.actor)).toEqual([`user:${owner.user._id}`, `user:${owner.user._id}`]);
  });

  it('filters the audit trail by action, actor and target, newest first, without any IP', async () => {
    const target = await createUser(t, { name: 'Audrey Audited' });
    const csrf = t.services.csrf.forSession(admin.sessionId);
    await submit(admin, `/admin/users/${target._id}/actions`, { action: 'disable', csrf });
    await submit(admin, `/admin/users/${target._id}/actions`, { action: 'enable', csrf });

    const all = await get(admin, '/admin/audit');
    expect(all.status).toBe(200);
    const actions = (html: string) => [...html.matchAll(/<tr data-action-name="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(actions(all.text)).size).toBeGreaterThan(1);

    const disabled = await get(admin, '/admin/audit?action=user.disabled&outcome=&actor=&target=&since=&until=');
    expect(disabled.status).toBe(200);
    expect(actions(disabled.text).length).toBeGreaterThan(0);
    expect(new Set(actions(disabled.text))).toEqual(new Set(['user.disabled']));

    const about = await get(admin, `/admin/audit?target=${encodeURIComponent(`user:${target._id}`)}`);
    expect(actions(about.text)).toEqual(['user.enabled', 'user.disabled']); // newest first

    const byOther = await get(admin, `/admin/audit?actor=user:${plain.user._id}&action=user.disabled`);
    expect(actions(byOther.text)).toEqual([]);
    const future = await get(admin, '/admin/audit?since=2999-01-01');
    expect(actions(future.text)).toEqual([]);

    const stored = await t.db.collection('audit').findOne({ ip: { $ne: null } });
    expect(stored?.ip).toBeTruthy();
    expect(all.text).not.toContain(stored?.ip as string);
    expect(all.text).not.toContain('127.0.0.1');

    expect((await get(admin, '/admin/audit?action=user.exploded')).status).toBe(400);
    expect((await get(admin, '/admin/audit?actor[$ne]=x')).status).toBe(400);
  });

  it('pages through the audit trail with a cursor', async () => {
    const first = await get(admin, '/admin/audit?limit=2');
    const next = linkTo(first.text, /cursor=/);
    const second = await get(admin, next);
    const ids = (html: string) =>
      [...html.matchAll(/<tr data-action-name="[^"]+"><td><time datetime="([^"]+)"/gi)].map((m) => m[1] as string);
    const a = ids(first.text);
    const b = ids(second.text);
    expect(a).toHaveLength(2);
    expect(b.length).toBeGreaterThan(0);
    expect((b[0] as string) <= (a[1] as string)).toBe(true);
    // And back: "Newer entries" from the second page is the first page again.
    expect(first.text).not.toContain('id="audit-prev"');
    const back = await get(admin, linkTo(second.text, /before=/));
    expect(ids(back.text)).toEqual(a);
  });

  it('exports the audit trail as CSV and JSON Lines downloads with the entries', async () => {
    const ids = (await t.db.collection('audit').find({}).toArray()).map((entry) => String(entry._id));
    expect(ids.length).toBeGreaterThan(3);

    const csv = await get(admin, '/admin/audit/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="gatehouse-audit-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('seq,id,time,action,outcome,actor,target,requestId,ip,ipIndex,ipKey,userAgent,details,prevHash,hash');
    expect(lines).toHaveLength(ids.length + 1);
    for (const id of ids) expect(csv.text).toContain(id);

    const jsonl = await t.http
      .get('/admin/audit/export?format=jsonl&since=2000-01-01')
      .set('Cookie', admin.cookie)
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        res.on('end', () => done(null, text));
      });
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(jsonl.headers['content-disposition']).toMatch(/^attachment; filename="gatehouse-audit-.*\.jsonl"$/);
    const rows = (jsonl.body as string)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; action: string });
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    expect(rows.some((row) => row.action === 'user.disabled')).toBe(true);

    const none = await get(admin, '/admin/audit/export?format=csv&since=2999-01-01');
    expect(none.text.trim().split('\n')).toHaveLength(1);
    expect((await get(admin, '/admin/audit/export?format=xml')).status).toBe(400);
    expect((await t.http.head('/admin/audit/export?format=csv').set('Cookie', admin.cookie)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.logLines.filter((line) => line.includes('audit.export_failed'))).toEqual([]);
  });

  it('renders every page under the strict CSP: no inline script or style, labelled inputs', async () => {
    const target = await createUser(t, { name: 'Pia Pages' });
    for (const path of [
      '/admin',
      `/admin/users/${target._id}`,
      `/admin/users/${target._id}/confirm?action=ban`,
      '/admin/audit',
      '/admin/keys',
      '/admin/keys/confirm?action=prune',
    ]) {
      const response = await get(owner, path);
      expect(response.status, path).toBe(200);
      expect(response.headers['content-security-policy']).toContain("default-src 'none'");
      expect(response.text).not.toMatch(/<script|style=|\son[a-z]+=/i);
      for (const match of response.text.matchAll(/<(?:input|select)[^>]*\sid="([^"]+)"/g)) {
        expect(response.text, `${path} #${match[1]}`).toContain(`<label for="${match[1]}"`);
      }
    }
  });

  it('lets an owner rotate the signing key through a confirmation; admins see the keys but cannot change them', async () => {
    const keys = t.db.collection('keys');
    const before = await keys.find({}).toArray();
    const oldKid = t.services.keyring.signingKey().kid;

    const asAdmin = await get(admin, '/admin/keys');
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.text).toContain(`data-kid="${oldKid}"`);
    expect(asAdmin.text).not.toContain('/admin/keys/confirm');
    expect((await get(admin, '/admin/keys/confirm?action=rotate')).status).toBe(403);
    const forged = await submit(admin, '/admin/keys', { action: 'rotate', csrf: t.services.csrf.forSession(admin.sessionId) });
    expect(forged.status).toBe(403);
    expect(await keys.countDocuments({})).toBe(before.length);

    const page = await get(owner, '/admin/keys');
    const confirm = await get(owner, linkTo(page.text, /confirm\?action=rotate$/));
    expect(confirm.text).toContain('Rotate the signing key?');
    expect(await keys.countDocuments({})).toBe(before.length);
    const { action, fields } = postForm(confirm.text);
    const done = await submit(owner, action, fields);
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/admin/keys?done=rotated');

    const after = await keys.find({}).toArray();
    expect(after).toHaveLength(before.length + 1);
    const active = after.filter((key) => key.state === 'active');
    expect(active).toHaveLength(1);
    expect(active[0]?._id).not.toBe(oldKid);
    expect(t.services.keyring.signingKey().kid).toBe(active[0]?._id);
    expect(await t.db.collection('audit').countDocuments({ action: 'key.rotated', actor: `user:${owner.user._id}` })).toBe(1);
    expect((await get(owner, '/admin/keys?done=rotated')).text).toContain('Key rotated.');

    // Nothing retired long enough ago: prune removes nothing and says so.
    const pruned = await submit(owner, '/admin/keys', { action: 'prune', csrf: t.services.csrf.forSession(owner.sessionId) });
    expect(pruned.headers.location).toBe('/admin/keys?done=nothing-to-prune');
    expect(await keys.countDocuments({})).toBe(before.length + 1);
  });
});

describe('admin console with SECRET_KEY', () => {
  let s: TestApp;
  beforeAll(async () => {
    s = await createTestApp({ SECRET_KEY: randomBytes(32).toString('base64url') });
  });
  afterAll(() => s?.close());

  it('says rotation is disabled and refuses it', async () => {
    const owner = await createUser(s, { name: 'Olga Owner', roles: ['admin', 'owner', 'user'] });
    const { cookie, sessionId } = await startBrowserSession(s, owner);
    const page = await s.http.get('/admin/keys').set('Cookie', cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('rotation and pruning are disabled');
    const refused = await s.http
      .post('/admin/keys')
      .set('Cookie', cookie)
      .set('Origin', TEST_ORIGIN)
      .type('form')
      .send({ action: 'rotate', csrf: s.services.csrf.forSession(sessionId) });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('Nothing was changed.');
    expect(await s.db.collection('keys').countDocuments({})).toBe(0);
  });
});
