// The reference for `npm run bench`: node-oidc-provider 9 configured for the grant Gatehouse
// serves to paired clients — device flow, a DPoP-bound public client, JWT access tokens and
// rotating refresh tokens — in its own process so that /proc/<pid>/stat measures it alone.
//
// Env: PORT, STORE=memory|mongo, MONGODB_URL (for mongo), SEED_JKTS (comma-separated DPoP key
// thumbprints). Prints one line `READY <json>` with one refresh token per thumbprint, minted
// through the provider's own models as a finished device flow would have (not timed).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { MongoClient } from 'mongodb';
import Provider from 'oidc-provider';
import { createMemoryAdapter } from '../../scripts/dev-idp/memory-adapter.mjs';

const RESOURCE = 'urn:gatehouse:bench';
const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

/** node-oidc-provider's adapter interface on MongoDB: one collection per model, like its example adapter. */
async function mongoAdapter(url) {
  const client = await new MongoClient(url).connect();
  const db = client.db();
  const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
  for (const name of grantable) await db.collection(name).createIndex({ 'payload.grantId': 1 });
  await db.collection('DeviceCode').createIndex({ 'payload.userCode': 1 }, { unique: true });
  return (model) => {
    const collection = db.collection(model);
    return {
      async upsert(_id, payload, expiresIn) {
        const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : undefined;
        await collection.updateOne({ _id }, { $set: { payload, ...(expiresAt ? { expiresAt } : {}) } }, { upsert: true });
      },
      async find(_id) {
        return (await collection.findOne({ _id }, { projection: { payload: 1 } }))?.payload;
      },
      async findByUserCode(userCode) {
        return (await collection.findOne({ 'payload.userCode': userCode }, { projection: { payload: 1 } }))?.payload;
      },
      async findByUid(uid) {
        return (await collection.findOne({ 'payload.uid': uid }, { projection: { payload: 1 } }))?.payload;
      },
      async consume(_id) {
        await collection.updateOne({ _id }, { $set: { 'payload.consumed': Math.floor(Date.now() / 1000) } });
      },
      async destroy(_id) {
        await collection.deleteOne({ _id });
      },
      async revokeByGrantId(grantId) {
        await collection.deleteMany({ 'payload.grantId': grantId });
      },
    };
  };
}

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const adapter = process.env.STORE === 'mongo' ? await mongoAdapter(process.env.MONGODB_URL) : createMemoryAdapter();
const provider = new Provider(issuer, {
  adapter,
  clients: [
    {
      client_id: 'bench-device',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      dpop_bound_access_tokens: true,
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' }] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  scopes: ['offline_access', 'api'],
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    dPoP: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: RESOURCE,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  rotateRefreshToken: true,
  issueRefreshToken: () => true,
  ttl: { AccessToken: 600, RefreshToken: 24 * 3600, Grant: 24 * 3600, DeviceCode: 600 },
});
provider.on('server_error', (_ctx, error) => process.stderr.write(`reference server_error: ${error.stack}\n`));

const seeded = [];
for (const jkt of (process.env.SEED_JKTS ?? '').split(',').filter(Boolean)) {
  const accountId = `bench-${randomUUID()}`;
  const grant = new provider.Grant({ accountId, clientId: 'bench-device' });
  grant.addOIDCScope('offline_access');
  grant.addResourceScope(RESOURCE, 'api');
  const grantId = await grant.save();
  const client = await provider.Client.find('bench-device');
  const token = new provider.RefreshToken({
    accountId,
    client,
    grantId,
    gty: 'urn:ietf:params:oauth:grant-type:device_code',
    scope: 'offline_access api',
    resource: RESOURCE,
    jkt,
    authTime: Math.floor(Date.now() / 1000),
  });
  seeded.push(await token.save());
}

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`READY ${JSON.stringify({ refreshTokens: seeded })}\n`);
process.on('SIGTERM', () => process.exit(0));
