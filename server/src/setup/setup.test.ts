// docs/operations.md: until an owner exists, POST /api/v1/setup with
// `Authorization: Bootstrap <FIRST_RUN_PASSWORD>` (or the /setup form) names the owner. Without
// the variable setup fails closed; wrong credentials are refused and audited; exactly one setup
// can ever succeed, after which both endpoints are gone (404); the password is never stored,
// returned or logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_FIRST_RUN_PASSWORD, type TestApp } from '../../test/harness.js';
import { collection, expectErrorPage, expectNoInternals, expectProblem, expectStillServing, SecretWatch } from '../../test/http-checks.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

const ORIGIN = 'http://127.0.0.1:4555';
/** Wrong passwords tried below: none may be stored or logged either (they are near-misses). */
// One character changed — to another one: the random password ends in `X` one time in 64.
const WRONG = `${TEST_FIRST_RUN_PASSWORD.slice(0, -1)}${TEST_FIRST_RUN_PASSWORD.endsWith('X') ? 'Y' : 'X'}`;
watch.add('a wrong bootstrap password', WRONG);

function setupJson(t: TestApp, authorization: string | null, body: unknown = { email: 'owner@example.com', name: 'The Owner' }) {
  const request = t.http.post('/api/v1/setup');
  if (authorization !== null) request.set('Authorization', authorization);
  return request.send(body as object);
}

function setupForm(t: TestApp, form: Record<string, string>, origin: string | null = ORIGIN) {
  const request = t.http.post('/setup').type('form');
  if (origin !== null) request.set('Origin', origin);
  return request.send(new URLSearchParams(form).toString());
}

async function owners(t: TestApp): Promise<number> {
  return t.db.collection('users').countDocuments({ roles: 'owner' });
}

async function auditEntries(t: TestApp, action: string) {
  return t.db.collection('audit').find({ action }).toArray();
}

/** Every document of the collections setup touches, as raw JSON. */
async function rawStore(t: TestApp): Promise<string> {
  const collections = ['users', 'audit', 'system', 'sessions', 'identities'];
  const docs = await Promise.all(collections.map((name) => t.db.collection(name).find().toArray()));
  return JSON.stringify(docs);
}

describe('without FIRST_RUN_PASSWORD', () => {
  it.each([
    ['unset', undefined],
    ['empty', ''],
  ])('fails closed with 403 SETUP_DISABLED when the variable is %s, whatever is presented', async (_, value) => {
    const t = watch.track(await createTestApp({ FIRST_RUN_PASSWORD: value }));
    expect(t.config.FIRST_RUN_PASSWORD || undefined).toBeUndefined();
    for (const authorization of [`Bootstrap ${TEST_FIRST_RUN_PASSWORD}`, 'Bootstrap anything', null, `Bootstrap ${value ?? ''}`]) {
      expectProblem(await setupJson(t, authorization), 403, 'SETUP_DISABLED');
    }
    expect(await owners(t)).toBe(0);
    const failed = await auditEntries(t, 'setup.failed');
    expect(failed.length).toBe(4);
    for (const entry of failed)
      expect(entry).toMatchObject({ outcome: 'failure', actor: 'anonymous', details: { reason: 'SETUP_DISABLED' } });
    // The form says so in plain words.
    const page = await setupForm(t, { email: 'owner@example.com', password: 'anything' });
    expect(page.status).toBe(403);
    expect(page.text).toContain('First-run setup is disabled because FIRST_RUN_PASSWORD is not set.');
    expect(await owners(t)).toBe(0);
  });
});

describe('POST /api/v1/setup', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = watch.track(await createTestApp());
  });

  it.each([
    ['a wrong password', `Bootstrap ${WRONG}`],
    ['a prefix of the password', `Bootstrap ${TEST_FIRST_RUN_PASSWORD.slice(0, 10)}`],
    ['the password plus a character', `Bootstrap ${TEST_FIRST_RUN_PASSWORD}x`],
    ['no Authorization header', null],
    ['an empty Authorization header', ''],
    ['the Bearer scheme', `Bearer ${TEST_FIRST_RUN_PASSWORD}`],
    ['the Basic scheme', `Basic ${Buffer.from(`admin:${TEST_FIRST_RUN_PASSWORD}`).toString('base64')}`],
    ['a lower-case scheme', `bootstrap ${TEST_FIRST_RUN_PASSWORD}`],
    ['two spaces', `Bootstrap  ${TEST_FIRST_RUN_PASSWORD}`],
    ['the bare password', TEST_FIRST_RUN_PASSWORD],
    ['the scheme alone', 'Bootstrap'],
  ])('refuses %s with 401 SETUP_PASSWORD_INVALID and audits setup.failed', async (_, authorization) => {
    const before = (await auditEntries(t, 'setup.failed')).length;
    const response = await setupJson(t, authorization);
    expectProblem(response, 401, 'SETUP_PASSWORD_INVALID');
    expect(response.text).not.toContain(TEST_FIRST_RUN_PASSWORD);
    expect(await owners(t)).toBe(0);
    expect(await t.db.collection('system').countDocuments({})).toBe(0);
    const failed = await auditEntries(t, 'setup.failed');
    expect(failed.length).toBe(before + 1);
    expect(failed.at(-1)).toMatchObject({ outcome: 'failure', actor: 'anonymous', details: { reason: 'SETUP_PASSWORD_INVALID' } });
  });

  it('with the right password creates the owner: 201, roles owner+admin+user, setup.completed audited', async () => {
    const response = await setupJson(t, `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`, { email: 'Owner@Example.com', name: 'The Owner' });
    expect(response.status, response.text).toBe(201);
    expect(Object.keys(response.body).sort()).toEqual(['email', 'userId']);
    expect(response.body.email).toBe('owner@example.com');

    const owner = await collection(t, 'users').findOne({ _id: response.body.userId });
    expect(owner).toMatchObject({ email: 'owner@example.com', name: 'The Owner', status: 'active', pendingFirstSignIn: true });
    expect([...((owner?.roles as string[] | undefined) ?? [])].sort()).toEqual(['admin', 'owner', 'user']);
    expect(owner?.keySalt).toBeTruthy();

    const completed = await auditEntries(t, 'setup.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      outcome: 'success',
      actor: 'bootstrap',
      target: `user:${response.body.userId}`,
      requestId: response.headers['x-request-id'],
    });
  });

  it('is gone once done: a second setup (right or wrong password) is 404, and so are GET and POST /setup', async () => {
    expectProblem(await setupJson(t, `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`, { email: 'second@example.com' }), 404, 'NOT_FOUND');
    expectProblem(await setupJson(t, `Bootstrap ${WRONG}`, { email: 'second@example.com' }), 404, 'NOT_FOUND');
    expectProblem(await setupJson(t, null, { email: 'second@example.com' }), 404, 'NOT_FOUND');
    expectErrorPage(await t.http.get('/setup'), 404, 'NOT_FOUND');
    expectProblem(await t.http.get('/setup').set('Accept', 'application/json'), 404, 'NOT_FOUND');
    const form = await setupForm(t, { email: 'second@example.com', password: TEST_FIRST_RUN_PASSWORD });
    expectErrorPage(form, 404, 'NOT_FOUND');
    expect(await owners(t)).toBe(1);
    expect(await auditEntries(t, 'setup.completed')).toHaveLength(1);
    expect(await t.db.collection('users').countDocuments({ email: 'second@example.com' })).toBe(0);
    await expectStillServing(t);
  });

  it('never stores, returns or logs the bootstrap password (raw documents and log lines scanned)', async () => {
    const raw = await rawStore(t);
    expect(raw).not.toContain(TEST_FIRST_RUN_PASSWORD);
    expect(raw).not.toContain(WRONG);
    expect(raw).not.toContain(TEST_FIRST_RUN_PASSWORD.slice(10, 40));
    const logs = t.logLines.join('');
    expect(logs).not.toContain(TEST_FIRST_RUN_PASSWORD);
    expect(logs).not.toContain(WRONG);
  });
});

describe('concurrent setups', () => {
  it('20 concurrent setups with the right password: exactly one 201, the others 404, one owner', async () => {
    const t = watch.track(await createTestApp());
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => setupJson(t, `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`, { email: `owner${i}@example.com` })),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    for (const response of responses.filter((r) => r.status !== 201)) expectProblem(response, 404, 'NOT_FOUND');
    expect(await owners(t)).toBe(1);
    expect(await t.db.collection('users').countDocuments({})).toBe(1);
    expect(await t.db.collection('system').countDocuments({})).toBe(1);
    expect(await auditEntries(t, 'setup.completed')).toHaveLength(1);
    const winner = responses.find((response) => response.status === 201);
    expect(await t.db.collection('users').findOne({ email: winner?.body.email })).toMatchObject({ _id: winner?.body.userId });
  });
});

describe('the /setup page', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = watch.track(await createTestApp());
  });

  it('shows a labelled form that posts to /setup, under the strict CSP', async () => {
    const page = await t.http.get('/setup');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<form method="post" action="/setup"');
    for (const field of ['email', 'name', 'password']) {
      expect(page.text).toContain(`<label for="${field}">`);
      expect(page.text).toContain(`id="${field}" name="${field}"`);
    }
    expect(page.text).toContain('type="password"');
    expect(page.headers['content-security-policy']).toContain("form-action 'self'");
  });

  it.each([
    ['no Origin', null],
    ['a foreign Origin', 'https://evil.example'],
    ['Origin: null', 'null'],
  ])('refuses a post with %s (403 ORIGIN_REJECTED) and writes nothing', async (_, origin) => {
    const response = await setupForm(t, { email: 'owner@example.com', password: TEST_FIRST_RUN_PASSWORD }, origin);
    expectErrorPage(response, 403, 'ORIGIN_REJECTED');
    expect(await owners(t)).toBe(0);
  });

  it.each([
    ['a wrong password', { email: 'owner@example.com', password: WRONG }, 401, 'The bootstrap password is missing or wrong.'],
    ['an empty password', { email: 'owner@example.com', password: '' }, 401, 'The bootstrap password is missing or wrong.'],
    ['an invalid email', { email: 'not an email', password: TEST_FIRST_RUN_PASSWORD }, 400, 'Not a valid email address.'],
    ['an empty email', { email: '', password: TEST_FIRST_RUN_PASSWORD }, 400, 'Not a valid email address.'],
  ])('shows %s in plain words, keeps the form, writes nothing', async (_, form, status, message) => {
    const response = await setupForm(t, form);
    expect(response.status).toBe(status);
    expect(response.text).toContain('role="alert"');
    expect(response.text).toContain(message);
    expect(response.text).toContain('<form method="post" action="/setup"');
    // The form is not refilled with the password.
    expect(response.text).not.toContain(form.password || '\u0000');
    expectNoInternals(response);
    expect(await owners(t)).toBe(0);
  });

  it('with the right password names the owner and says what to do next; then the page is gone', async () => {
    const response = await setupForm(t, { email: 'owner@example.com', name: 'The Owner', password: TEST_FIRST_RUN_PASSWORD });
    expect(response.status).toBe(200);
    expect(response.text).toContain('owner@example.com is now the owner.');
    expect(response.text).toContain('href="/sign-in"');
    expect(response.text).not.toContain(TEST_FIRST_RUN_PASSWORD);
    expect(await owners(t)).toBe(1);
    expect(await auditEntries(t, 'setup.completed')).toHaveLength(1);
    expectErrorPage(await t.http.get('/setup'), 404, 'NOT_FOUND');
  });
});

it('keeps the bootstrap password (right and wrong), the master key and every other secret out of the logs', () => {
  watch.expectNoSecretInLogs();
});
