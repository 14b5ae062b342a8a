// The local stack the global setup started is real: Redis answers, FerretDB stores, and the
// dev IdP runs a whole authorization-code + PKCE sign-in.
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, inject, it } from 'vitest';
import { signInAtDevIdp } from '../../scripts/dev-idp/index.mjs';

const stack = inject('stack');
const REDIRECT_URI = 'http://127.0.0.1:4555/auth/dev/callback';

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  code_challenge_methods_supported: string[];
  scopes_supported: string[];
  authorization_response_iss_parameter_supported: boolean;
  backchannel_logout_supported: boolean;
}

async function discover(): Promise<Discovery> {
  const res = await fetch(`${stack.idpIssuer}/.well-known/openid-configuration`);
  expect(res.status).toBe(200);
  return (await res.json()) as Discovery;
}

/** A hand-built authorization request, as the backend would send it. */
async function authorizationRequest() {
  const discovery = await discover();
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: stack.idpClientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile groups',
    state,
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { url, state, verifier, discovery };
}

describe('the local stack', () => {
  it('Redis answers PING', async () => {
    const redis = new Redis(stack.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('FerretDB stores a document and finds it again', async () => {
    const client = new MongoClient(stack.mongoUrl, { serverSelectionTimeoutMS: 5_000 });
    const db = client.db(`smoke_${randomBytes(4).toString('hex')}`);
    try {
      await db.collection('things').insertOne({ name: 'probe', n: 1 });
      expect(await db.collection('things').findOne({ name: 'probe' }, { projection: { _id: 0 } })).toEqual({
        name: 'probe',
        n: 1,
      });
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });

  it('the dev IdP publishes its discovery document', async () => {
    const discovery = await discover();
    expect(discovery.issuer).toBe(stack.idpIssuer);
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
    expect(discovery.scopes_supported).toEqual(expect.arrayContaining(['openid', 'email', 'profile', 'groups']));
    expect(discovery.authorization_response_iss_parameter_supported).toBe(true);
    expect(discovery.backchannel_logout_supported).toBe(true);
  });

  it('signs alice in end to end: code, state and iss come back, and the code redeems', async () => {
    const { url, state, verifier, discovery } = await authorizationRequest();
    const back = new URL(await signInAtDevIdp(url, { login: 'alice@example.com', password: 'alice-password' }));

    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get('code')).toMatch(/\S{20,}/);
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('iss')).toBe(stack.idpIssuer);

    const res = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${stack.idpClientId}:${stack.idpClientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code') ?? '',
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      }),
    });
    expect(res.status).toBe(200);
    const { id_token } = (await res.json()) as { id_token: string };
    const claims = JSON.parse(Buffer.from(id_token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: stack.idpIssuer,
      aud: stack.idpClientId,
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Admin',
      groups: ['admins'],
    });
    expect(claims.sid).toEqual(expect.any(String)); // for back-channel logout
  });

  it('signs bob in too', async () => {
    const { url, state } = await authorizationRequest();
    const back = new URL(await signInAtDevIdp(url, { login: 'bob@example.com', password: 'bob-password' }));
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('code')).toBeTruthy();
  });

  it('refuses a wrong password', async () => {
    const { url } = await authorizationRequest();
    await expect(signInAtDevIdp(url, { login: 'alice@example.com', password: 'not-her-password' })).rejects.toThrow(
      /refused the sign-in of alice@example.com: Wrong email or password/,
    );
  });
});
