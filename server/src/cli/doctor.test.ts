// `gatehouse doctor` (docs/deployment.md, "Before going live"): it names what is wrong with a
// deployment, against the real configuration and the real services.
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, runGatehouse, TEST_MASTER_KEY, type TestApp } from '../../test/harness.js';
import { loadConfig } from '../config/index.js';
import { runDoctor } from './doctor.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** A production configuration of this test app's services, as an operator would write it. */
function productionConfig(overrides: Record<string, string> = {}) {
  const env = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://id.example.test',
    MONGODB_URL: t.config.MONGODB_URL,
    REDIS_URL: t.config.REDIS_URL,
    REDIS_KEY_PREFIX: t.config.REDIS_KEY_PREFIX,
    MASTER_KEY: TEST_MASTER_KEY,
    TRUST_PROXY_HOPS: '1',
    ...overrides,
  };
  return { config: loadConfig(env), env };
}

function deps(config: ReturnType<typeof loadConfig>, env: NodeJS.ProcessEnv, fetchPublic?: (url: string) => Promise<Response>) {
  return {
    config,
    env,
    db: t.db,
    redis: t.redis,
    keyring: t.services.keyring,
    setupComplete: () => t.services.setup.isComplete(),
    fetchPublic,
  };
}

const line = (lines: string[], check: string) => lines.find((l) => l.slice(6).startsWith(check)) ?? `(no ${check} line)`;

describe('gatehouse doctor', () => {
  it('the real command on a development setup: exit 1, naming each thing that is not production-ready, and no secret', async () => {
    const { code, stdout } = await runGatehouse(t, ['doctor']);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(line(lines, 'NODE_ENV')).toMatch(/^fail .*is test/);
    expect(line(lines, 'PUBLIC_URL')).toMatch(/^fail .*must be https/);
    expect(line(lines, 'public URL')).toMatch(/^fail .*cannot be reached/);
    // FerretDB is no replica set: production wants one.
    expect(line(lines, 'MongoDB')).toMatch(/^fail .*not a replica set/);
    expect(line(lines, 'Redis')).toMatch(/^ok .*answers in \d+ ms/);
    expect(line(lines, 'keyring')).toMatch(/^ok .*active key/);
    expect(line(lines, 'audit chain')).toMatch(/^ok .*intact/);
    expect(lines.at(-1)).toMatch(/^\d+ checks: \d+ failed, \d+ warnings$/);
    expect(stdout).not.toContain(TEST_MASTER_KEY);
  }, 60_000);

  it('a production configuration answered by the real app with HSTS passes what it can', async () => {
    const { config, env } = productionConfig();
    // The real app, configured with the https URL, listens on plain http here: the doctor's
    // request reaches it as it would through the TLS-terminating proxy.
    const productionApp = await createTestApp({ PUBLIC_URL: 'https://id.example.test' }, { sharedWith: t });
    const viaProxy = createServer(productionApp.callback);
    await new Promise<void>((resolve) => viaProxy.listen(0, '127.0.0.1', resolve));
    const proxyPort = (viaProxy.address() as { port: number }).port;
    try {
      const { lines } = await runDoctor(
        deps(config, env, (url) => fetch(url.replace('https://id.example.test', `http://127.0.0.1:${proxyPort}`))),
      );
      expect(line(lines, 'NODE_ENV')).toMatch(/^ok /);
      expect(line(lines, 'PUBLIC_URL')).toMatch(/^ok /);
      expect(line(lines, 'public URL')).toMatch(/^ok .*HSTS/);
      expect(line(lines, 'TRUST_PROXY_HOPS')).toMatch(/^ok /);
      expect(line(lines, 'FIRST_RUN_PASSWORD')).toMatch(/^ok /);
      expect(line(lines, 'rate limits')).toMatch(/^ok /);
      expect(line(lines, 'signing keys')).toMatch(/^ok /);
    } finally {
      viaProxy.close();
      await productionApp.close();
    }
  }, 60_000);

  it('warns about a setup password left behind, no proxy hops, plain-http CORS and a public URL without HSTS', async () => {
    const { config, env } = productionConfig({
      TRUST_PROXY_HOPS: '0',
      FIRST_RUN_PASSWORD: 'a-first-run-password-of-more-than-32-bytes',
      CORS_ORIGINS: 'http://intranet.example.test',
    });
    const { lines, code } = await runDoctor(deps(config, env, async () => new Response('{}', { status: 200 })));
    expect(line(lines, 'TRUST_PROXY_HOPS')).toMatch(/^warn .*is 0/);
    expect(line(lines, 'FIRST_RUN_PASSWORD')).toMatch(/^warn .*remove it/);
    expect(line(lines, 'CORS_ORIGINS')).toMatch(/^warn .*http:\/\/intranet.example.test/);
    expect(line(lines, 'public URL')).toMatch(/^warn .*Strict-Transport-Security/);
    expect(lines.join('\n')).not.toContain('a-first-run-password');
    expect(code).toBe(1); // FerretDB is still no replica set
  });

  it('fails a public URL that answers 5xx, and a broken audit chain', async () => {
    const { config, env } = productionConfig();
    await t.services.audit.record(
      { action: 'setup.failed', outcome: 'failure', actor: 'anonymous', details: { reason: 'x' } },
      {
        requestId: 'doctor',
        ip: '127.0.0.1',
        userAgent: 'vitest',
      },
    );
    expect((await runGatehouse(t, ['audit', 'seal'])).code).toBe(0);
    await t.db.collection('audit').updateOne({ action: 'setup.failed' }, { $set: { outcome: 'success' } });
    const { lines } = await runDoctor(deps(config, env, async () => new Response('down', { status: 502 })));
    expect(line(lines, 'public URL')).toMatch(/^fail .*answered 502/);
    expect(line(lines, 'audit chain')).toMatch(/^fail .*BROKEN/);
  }, 60_000);
});
