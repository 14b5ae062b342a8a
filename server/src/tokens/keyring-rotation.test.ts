import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../test/dedicated-redis.js';
import {
  createTestApp,
  createUser,
  issueApiToken,
  runGatehouse,
  startBrowserSession,
  TEST_ORIGIN,
  type TestApp,
} from '../../test/harness.js';
import { expectProblem } from '../../test/http-checks.js';
import { runKeysCommand } from '../cli/keys.js';
import type { User } from '../users/index.js';
import { longestTokenLifetimeMs } from './lifetimes.js';

/** "Within a few seconds": the announcement is immediate, the periodic re-read every KEYRING_REFRESH_SECONDS. */
const PICKUP_MS = 10_000;
const _REPO = fileURLToPath(new URL('../../..', import.meta.url));

let a: TestApp;
let b: TestApp;
let user: User;
const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));

beforeAll(async () => {
  a = await createTestApp();
  b = await createTestApp({}, { sharedWith: a });
  user = await createUser(a);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const bearerOn = (t: TestApp, token: string) => t.http.get('/api/v1/me/sessions').set('Authorization', `Bearer ${token}`);
const accepts = async (t: TestApp, token: string) => (await bearerOn(t, token)).status === 200;
const keys = (...args: string[]) => runKeysCommand(a.deps, a.services.audit, args, longestTokenLifetimeMs(a.config));
const publishedKids = async (t: TestApp) =>
  ((await t.http.get('/.well-known/jwks.json')).body.keys as { kid: string }[]).map((key) => key.kid);

/** A real HTTP server for an app, so that an independent client can fetch its JWKS. */
async function serve(t: TestApp): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(t.callback).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Verifies like a resource server that knows nothing but our issuer URL and JWKS. */
async function verifyRemotely(baseUrl: string, token: string) {
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', baseUrl));
  return jwtVerify(token, jwks, {
    issuer: TEST_ORIGIN,
    audience: 'gatehouse:api',
    typ: 'gh-api+jwt',
    algorithms: ['ES256'],
    requiredClaims: ['exp', 'jti', 'sub'],
  });
}

describe('rotation and pruning across two instances', () => {
  let oldKid: string;
  let newKid: string;
  let oldToken: string;
  let newToken: string;

  it('both instances start on the same active key, and JWKS publishes it (public parts only)', async () => {
    oldKid = a.services.keyring.signingKey().kid;
    expect(b.services.keyring.signingKey().kid).toBe(oldKid);
    const jwks = (await a.http.get('/.well-known/jwks.json')).body;
    expect(jwks.keys).toEqual([
      { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: oldKid, alg: 'ES256', use: 'sig' },
    ]);
    expect(await b.http.get('/.well-known/jwks.json').then((response) => response.body)).toEqual(jwks);
    const stored = await a.db.collection('keys').findOne({ _id: oldKid as never });
    expect(JSON.stringify(stored)).not.toContain('"d"');
  });

  it('rotate on A: A and B sign with the new key within seconds, without restart; old tokens still verify on both', async () => {
    oldToken = (await issueApiToken(a, user)).token;
    expect(kidOf(oldToken)).toBe(oldKid);
    expect(await accepts(b, oldToken)).toBe(true); // and now cached by B

    const { lines } = await keys('rotate');
    newKid = /^new active key (\S+);/.exec(lines[0] ?? '')?.[1] ?? '';
    expect(newKid).not.toBe('');
    expect(newKid).not.toBe(oldKid);

    await waitUntil('A signing with the new key', () => a.services.keyring.signingKey().kid === newKid, PICKUP_MS);
    newToken = (await issueApiToken(a, user)).token;
    expect(kidOf(newToken)).toBe(newKid);
    await waitUntil('B accepting A’s new token', () => accepts(b, newToken), PICKUP_MS);
    await waitUntil('B signing with the new key', () => b.services.keyring.signingKey().kid === newKid, PICKUP_MS);

    for (const t of [a, b]) {
      expect(await accepts(t, oldToken)).toBe(true);
      expect(await accepts(t, newToken)).toBe(true);
      expect(await publishedKids(t)).toEqual(expect.arrayContaining([oldKid, newKid]));
    }
    expect(await a.db.collection('audit').countDocuments({ action: 'key.rotated', actor: 'cli', target: `key:${newKid}` })).toBe(1);
    expect((await keys('list')).lines.map((line) => line.split('\t').slice(0, 3).join(' '))).toEqual([
      `${newKid} ES256 active`,
      `${oldKid} ES256 retired`,
    ]);
  });

  it('an independent client (jose createRemoteJWKSet over HTTP) verifies tokens of both keys, from either instance', async () => {
    for (const t of [a, b]) {
      const server = await serve(t);
      try {
        for (const token of [oldToken, newToken]) {
          const { payload, protectedHeader } = await verifyRemotely(server.url, token);
          expect(payload.sub).toBe(user._id);
          expect(protectedHeader.kid).toBe(kidOf(token));
        }
        // And it refuses what we did not sign: same kid, another key.
        const attacker = await generateKeyPair('ES256');
        const forged = await new SignJWT({ tv: 0 })
          .setProtectedHeader({ alg: 'ES256', typ: 'gh-api+jwt', kid: newKid })
          .setIssuer(TEST_ORIGIN)
          .setAudience('gatehouse:api')
          .setSubject(user._id)
          .setJti('forged')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(attacker.privateKey);
        await expect(verifyRemotely(server.url, forged)).rejects.toThrow();
      } finally {
        await server.close();
      }
    }
  });

  it('prune keeps a retired key younger than the longest token lifetime', async () => {
    const { lines } = await keys('prune');
    expect(lines[0]).toMatch(/^nothing to prune/);
    expect(await publishedKids(a)).toContain(oldKid);
  });

  it('prune after the longest lifetime: the old key’s tokens are refused on both instances, the new key’s still work', async () => {
    const later = longestTokenLifetimeMs(a.config) + 60_000;
    a.clock.advance(later); // only the CLI's clock: it decides which keys are old enough
    let lines: string[];
    try {
      ({ lines } = await keys('prune'));
    } finally {
      a.clock.advance(-later);
    }
    expect(lines).toEqual([`pruned ${oldKid}`]);
    expect(await a.db.collection('audit').countDocuments({ action: 'key.pruned', target: `key:${oldKid}` })).toBe(1);

    for (const t of [a, b]) {
      await waitUntil('the pruned key leaving the ring', async () => !(await publishedKids(t)).includes(oldKid), PICKUP_MS);
      // Refused although this instance verified (and cached) the token before the prune.
      expectProblem(await bearerOn(t, oldToken), 401, 'TOKEN_INVALID');
      expect(await accepts(t, newToken)).toBe(true);
    }
    const server = await serve(a);
    try {
      await expect(verifyRemotely(server.url, oldToken)).rejects.toThrow();
      expect((await verifyRemotely(server.url, newToken)).payload.sub).toBe(user._id);
    } finally {
      await server.close();
    }
  });
});

describe('keys import', () => {
  it('a PKCS#8 PEM becomes the active key on both instances; its tokens verify with its public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const file = join(tmp, 'existing.pem');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const { lines } = await keys('import', file);
    const kid = /^imported (\S+) as the active key$/.exec(lines[0] ?? '')?.[1] ?? '';
    expect(kid).not.toBe('');

    await waitUntil('A signing with the imported key', () => a.services.keyring.signingKey().kid === kid, PICKUP_MS);
    const token = (await issueApiToken(a, user)).token;
    expect(kidOf(token)).toBe(kid);
    expect((await jwtVerify(token, publicKey, { issuer: TEST_ORIGIN, audience: 'gatehouse:api' })).payload.sub).toBe(user._id);
    await waitUntil('B accepting a token of the imported key', () => accepts(b, token), PICKUP_MS);
    expect(await a.db.collection('audit').countDocuments({ action: 'key.imported', target: `key:${kid}` })).toBe(1);
  });

  it('a private JWK keeps its kid', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'legacy-2024' };
    const file = join(tmp, 'existing.jwk.json');
    writeFileSync(file, JSON.stringify(jwk));
    expect((await keys('import', file)).lines).toEqual(['imported legacy-2024 as the active key']);
    await waitUntil('B signing with legacy-2024', () => b.services.keyring.signingKey().kid === 'legacy-2024', PICKUP_MS);
    expect(await accepts(b, (await issueApiToken(a, user)).token)).toBe(true);
  });

  it('refuses an RSA key, a public key, and garbage, and leaves the ring as it was', async () => {
    const before = a.services.keyring.signingKey().kid;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const files = {
      'rsa.pem': rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      'public.jwk.json': JSON.stringify(ec.publicKey.export({ format: 'jwk' })),
      'garbage.txt': 'not a key',
    };
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(tmp, name), content);
      await expect(keys('import', join(tmp, name)), name).rejects.toThrow();
    }
    await a.services.keyring.reload();
    expect(a.services.keyring.signingKey().kid).toBe(before);
  });
});

describe('the gatehouse binary', () => {
  it('`keys list` shows the ring of the test database, newest first, one active key', async () => {
    const { code, stdout, stderr } = await runGatehouse(a, ['keys', 'list']);
    expect(code, stderr).toBe(0);
    const rows = stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    const stored = await a.db.collection('keys').find().sort({ createdAt: -1 }).toArray();
    expect(rows.map((row) => row[0])).toEqual(stored.map((key) => key._id));
    expect(rows.filter((row) => row[2] === 'active')).toHaveLength(1);
    expect(rows[0]?.[2]).toBe('active');
    expect(stdout).not.toMatch(/sealed|"d"|PRIVATE/);
  }, 60_000);

  it('`keys rotate` from the binary reaches both running instances within seconds', async () => {
    const { code, stdout, stderr } = await runGatehouse(a, ['keys', 'rotate']);
    expect(code, stderr).toBe(0);
    const kid = /^new active key (\S+);/.exec(stdout)?.[1] ?? '';
    for (const t of [a, b])
      await waitUntil('an instance signing with the CLI’s key', () => t.services.keyring.signingKey().kid === kid, PICKUP_MS);
  }, 60_000);

  it('no command: usage and exit 64; a wrong master key: a clear error, exit 1', async () => {
    const usage = await runGatehouse(a, []);
    expect(usage.code).toBe(64);
    expect(usage.stdout).toMatch(/usage: gatehouse/);
    const wrong = await runGatehouse(a, ['keys', 'list'], { MASTER_KEY: 'short' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/MASTER_KEY/);
  }, 60_000);
});

describe('SECRET_KEY mode', () => {
  const secret = randomBytes(32).toString('base64url');
  let s: TestApp;
  let s2: TestApp;
  beforeAll(async () => {
    s = await createTestApp({ SECRET_KEY: secret });
    s2 = await createTestApp({ SECRET_KEY: secret }, { sharedWith: s });
  });
  afterAll(async () => {
    await s2?.close();
    await s?.close();
  });

  it('says so at boot, publishes an empty JWKS and refuses rotation', async () => {
    expect(s.logLines.some((line) => line.includes('"keyring.static_secret_key"'))).toBe(true);
    expect((await s.http.get('/.well-known/jwks.json')).body).toEqual({ keys: [] });
    expect(s.services.keyring.isStatic).toBe(true);
    await expect(runKeysCommand(s.deps, s.services.audit, ['rotate'], 0)).rejects.toThrow(/SECRET_KEY/);
    expect(await s.db.collection('keys').countDocuments()).toBe(0);
  });

  it('HS256 tokens work: an API token created from a cookie session is accepted by both instances', async () => {
    const owner = await createUser(s);
    const session = await startBrowserSession(s, owner);
    expect(decodeProtectedHeader(session.token).alg).toBe('HS256');
    const created = await s.http
      .post('/api/v1/me/api-tokens')
      .set({ Cookie: session.cookie, Origin: TEST_ORIGIN, 'X-CSRF-Token': s.services.csrf.forSession(session.sessionId) })
      .send({ name: 'static', scopes: ['sessions:read'], expiresInDays: 1 });
    expect(created.status, created.text).toBe(201);
    const token = created.body.token as string;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', typ: 'gh-api+jwt' });
    expect(await accepts(s, token)).toBe(true);
    expect(await accepts(s2, token)).toBe(true);
    await jwtVerify(token, Buffer.from(secret, 'base64url'), { issuer: TEST_ORIGIN, audience: 'gatehouse:api' });

    // Signed with another secret under the same kid: refused.
    const forged = await new SignJWT({ tv: 0, sid: created.body.id, scope: 'sessions:read' })
      .setProtectedHeader({ alg: 'HS256', typ: 'gh-api+jwt', kid: decodeProtectedHeader(token).kid as string })
      .setIssuer(TEST_ORIGIN)
      .setAudience('gatehouse:api')
      .setSubject(owner._id)
      .setJti('forged')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(randomBytes(32));
    expectProblem(await bearerOn(s, forged), 401, 'TOKEN_INVALID');
  });
});
