import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/index.js';

const base = { MASTER_KEY: Buffer.from('k'.repeat(32)).toString('base64url') };
const prod = { ...base, NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com' };
const transmitter = {
  SSF_TRANSMITTERS: 'corp-ssf',
  SSF_CORP_SSF_ISSUER: 'https://sso.example.com',
  SSF_CORP_SSF_JWKS_URL: 'https://sso.example.com/ssf/jwks',
};

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.variable;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('Shared Signals transmitter configuration', () => {
  it('defaults the audience to PUBLIC_URL, the subject issuers to the issuer, and email to untrusted', () => {
    const [loaded] = loadConfig({ ...prod, ...transmitter }).ssfTransmitters;
    expect(loaded).toEqual({
      id: 'corp-ssf',
      issuer: 'https://sso.example.com',
      jwksUrl: 'https://sso.example.com/ssf/jwks',
      audience: 'https://id.example.com',
      subjectIssuers: ['https://sso.example.com'],
      trustEmail: false,
    });
    const custom = loadConfig({
      ...prod,
      ...transmitter,
      SSF_CORP_SSF_AUDIENCE: 'gatehouse-receiver',
      SSF_CORP_SSF_SUBJECT_ISSUERS: 'https://sso.example.com, https://sso.example.com/',
      SSF_CORP_SSF_TRUST_EMAIL: 'true',
    }).ssfTransmitters[0];
    expect(custom).toMatchObject({
      audience: 'gatehouse-receiver',
      subjectIssuers: ['https://sso.example.com', 'https://sso.example.com/'],
      trustEmail: true,
    });
  });

  it('names the variable of a missing or unsafe value', () => {
    expect(refusal({ ...prod, ...transmitter, SSF_CORP_SSF_ISSUER: '' })).toBe('SSF_CORP_SSF_ISSUER');
    expect(refusal({ ...prod, ...transmitter, SSF_CORP_SSF_JWKS_URL: 'not a url' })).toBe('SSF_CORP_SSF_JWKS_URL');
    expect(refusal({ ...prod, ...transmitter, SSF_CORP_SSF_JWKS_URL: 'http://sso.example.com/jwks' })).toBe('SSF_CORP_SSF_JWKS_URL');
    expect(refusal({ ...prod, ...transmitter, SSF_CORP_SSF_JWKS_URL: 'https://127.0.0.1/jwks' })).toBe('SSF_CORP_SSF_JWKS_URL');
    expect(refusal({ ...prod, ...transmitter, SSF_CORP_SSF_TRUST_EMAIL: 'maybe' })).toBe('SSF_CORP_SSF_TRUST_EMAIL');
    expect(refusal({ ...prod, ...transmitter, SSF_TRANSMITTERS: 'Bad Id' })).toBe('SSF_TRANSMITTERS');
    expect(refusal({ ...prod, ...transmitter, SSF_TRANSMITTERS: 'corp-ssf,corp-ssf' })).toBe('SSF_TRANSMITTERS');
  });

  it('only warns about a plain-http JWKS outside production', () => {
    const config = loadConfig({ ...base, ...transmitter, SSF_CORP_SSF_JWKS_URL: 'http://127.0.0.1:9999/jwks' });
    expect(config.ssfTransmitters).toHaveLength(1);
    expect(config.warnings.join('\n')).toMatch(/SSF_CORP_SSF_JWKS_URL/);
  });
});
