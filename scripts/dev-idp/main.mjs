// Runs the dev IdP alone (npm start already runs it as part of the stack):
//   DEV_IDP_PORT=3001 DEV_IDP_CLIENT_ID=gatehouse-dev DEV_IDP_CLIENT_SECRET=… \
//   DEV_IDP_REDIRECT_URIS=http://localhost:3000/auth/dev/callback node scripts/dev-idp/main.mjs
// Optional: DEV_IDP_BACKCHANNEL_LOGOUT_URI, DEV_IDP_POST_LOGOUT_REDIRECT_URIS (comma-separated).
import { randomBytes } from 'node:crypto';
import { createDevIdp, DEMO_ACCOUNTS } from './index.mjs';

const env = process.env;
const list = (value) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const client = {
  client_id: env.DEV_IDP_CLIENT_ID ?? 'gatehouse-dev',
  client_secret: env.DEV_IDP_CLIENT_SECRET ?? randomBytes(24).toString('base64url'),
  redirect_uris: list(env.DEV_IDP_REDIRECT_URIS ?? 'http://localhost:3000/auth/dev/callback'),
  post_logout_redirect_uris: list(env.DEV_IDP_POST_LOGOUT_REDIRECT_URIS),
  ...(env.DEV_IDP_BACKCHANNEL_LOGOUT_URI && { backchannel_logout_uri: env.DEV_IDP_BACKCHANNEL_LOGOUT_URI }),
};

const idp = await createDevIdp({ port: Number(env.DEV_IDP_PORT ?? 3001), clients: [client] });
console.log(`dev IdP: ${idp.issuer}  client ${client.client_id} / ${client.client_secret}`);
for (const a of DEMO_ACCOUNTS) console.log(`  ${a.email} / ${a.password}  (groups ${a.groups.join(', ')})`);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => idp.close().then(() => process.exit(0)));
