import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, spliceConfigReference } from './index.js';

const KEY = 'k'.repeat(32);
const base = { MASTER_KEY: Buffer.from(KEY).toString('base64url') };
const prod = {
  ...base,
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://id.example.com',
  FIRST_RUN_PASSWORD: 'p'.repeat(40),
};
const provider = {
  OIDC_PROVIDERS: 'corp',
  OIDC_CORP_ISSUER: 'https://sso.example.com/realms/corp',
  OIDC_CORP_CLIENT_ID: 'gatehouse',
  OIDC_CORP_CLIENT_SECRET: 'secret',
};

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration', () => {
  it('accepts a sound production configuration and freezes it', () => {
    const config = loadConfig({ ...prod, ...provider });
    expect(config.providers[0]?.issuer).toBe('https://sso.example.com/realms/corp');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.providers[0])).toBe(true);
  });

  it('names the variable when production gets an unsafe value', () => {
    expect(refusal({ ...prod, PUBLIC_URL: 'http://id.example.com' }).variable).toBe('PUBLIC_URL');
    expect(refusal({ ...prod, MASTER_KEY: 'short' }).variable).toBe('MASTER_KEY');
    expect(refusal({ ...prod, FIRST_RUN_PASSWORD: 'short' }).variable).toBe('FIRST_RUN_PASSWORD');
    expect(refusal({ ...prod, CORS_ORIGINS: '*' }).variable).toBe('CORS_ORIGINS');
    expect(refusal({ ...prod, ...provider, OIDC_CORP_ISSUER: 'http://localhost:3001' }).variable).toBe('OIDC_CORP_ISSUER');
    expect(refusal({ ...prod, ...provider, OIDC_CORP_ISSUER: 'https://127.0.0.1:3001' }).variable).toBe('OIDC_CORP_ISSUER');
    expect(refusal({ ...prod, ...provider, OIDC_CORP_CLIENT_ID: '' }).variable).toBe('OIDC_CORP_CLIENT_ID');
  });

  it('requires a master key everywhere', () => {
    expect(refusal({}).variable).toBe('MASTER_KEY');
  });

  it('only warns in development about the same values', () => {
    const config = loadConfig({ ...base, PUBLIC_URL: 'http://localhost:3000', CORS_ORIGINS: '*' });
    expect(config.warnings.join('\n')).toMatch(/PUBLIC_URL/);
    expect(config.warnings.join('\n')).toMatch(/CORS_ORIGINS/);
  });

  it('refuses invalid values with the variable name', () => {
    expect(refusal({ ...base, PORT: 'eighty' }).variable).toBe('PORT');
    expect(refusal({ ...base, OIDC_PROVIDERS: 'Bad Id' }).variable).toBe('OIDC_PROVIDERS');
    expect(refusal({ ...base, PUBLIC_URL: 'https://x.example/path' }).variable).toBe('PUBLIC_URL');
    expect(refusal({ ...base, CORS_ORIGINS: 'https://a.example/path' }).variable).toBe('CORS_ORIGINS');
  });

  it('accepts browser-extension origins for CORS, and nothing that only looks like one', () => {
    const chrome = `chrome-extension://${'a'.repeat(32)}`;
    const firefox = 'moz-extension://0f6c2d4e-6f1b-4c1e-9a43-2b1f7c9d8e01';
    expect(loadConfig({ ...base, CORS_ORIGINS: `${chrome},${firefox}` }).corsOrigins).toEqual([chrome, firefox]);
    for (const bad of [
      `chrome-extension://${'z'.repeat(32)}`,
      `${chrome}/popup.html`,
      'moz-extension://not-a-uuid',
      'chrome-extension://',
    ]) {
      expect(refusal({ ...base, CORS_ORIGINS: bad }).variable).toBe('CORS_ORIGINS');
    }
  });

  it('registers paired clients with their scopes, never an admin scope or an unknown one', () => {
    const clients = loadConfig({ ...base, OAUTH_CLIENTS: 'cli-one:profile:read+sessions:read' }).oauthClients;
    expect(clients).toEqual([{ id: 'cli-one', scopes: ['profile:read', 'sessions:read'] }]);
    expect(loadConfig(base).oauthClients.map((client) => client.id)).toEqual(['gatehouse-extension', 'gatehouse-cli']);
    for (const bad of ['x:admin:users', 'x:profile:write', 'bad id:profile:read', 'x:profile:read,x:sessions:read', ':profile:read']) {
      expect(refusal({ ...base, OAUTH_CLIENTS: bad }).variable).toBe('OAUTH_CLIENTS');
    }
  });

  it('keeps README.md and docs/configuration.md in step with the schema', () => {
    for (const file of ['../../../README.md', '../../../docs/configuration.md']) {
      const text = readFileSync(new URL(file, import.meta.url), 'utf8');
      expect(spliceConfigReference(text), `${file} is stale: run npm run docs:config`).toBe(text);
    }
  });
});
