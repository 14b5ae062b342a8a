import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { newSigningKey } from './signing-keys.js';

/** Event type URIs of the CAEP and RISC events Gatehouse acts on. */
export const EVENTS = {
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  credentialChange: 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  accountDisabled: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  accountPurged: 'https://schemas.openid.net/secevent/risc/event-type/account-purged',
  sessionsRevoked: 'https://schemas.openid.net/secevent/risc/event-type/sessions-revoked',
} as const;

/**
 * A Shared Signals transmitter over real HTTP on localhost: it publishes its JWKS (ES256) and
 * signs Security Event Tokens the way a transmitter would (typ secevent+jwt, iss, aud, iat, jti,
 * sub_id, one event), with any claim overridden or removed, or signed by a key it doesn't
 * publish, for the cases a well-behaved transmitter never produces.
 */
export interface TestTransmitter {
  issuer: string;
  jwksUrl: string;
  audience: string;
  signSet(options?: {
    event?: string;
    eventPayload?: Record<string, unknown>;
    subject?: Record<string, unknown>;
    claims?: Record<string, unknown>;
    omit?: string[];
    typ?: string;
    /** Sign with a key the JWKS doesn't publish (under the published kid). */
    strangerKey?: boolean;
  }): Promise<string>;
  /** The environment that configures this transmitter as id `id` (`SSF_<ID>_…`). */
  env(id: string, extra?: Record<string, string>): Record<string, string>;
  jwksFetches: number;
  close(): Promise<void>;
}

const newKey = (kid: string) => newSigningKey('ES256', kid);

export async function startTestTransmitter(audience: string): Promise<TestTransmitter> {
  const kid = randomBytes(6).toString('hex');
  const key = await newKey(kid);
  const stranger = await newKey(kid);
  let server: Server;

  const transmitter: TestTransmitter = {
    issuer: '',
    jwksUrl: '',
    audience,
    jwksFetches: 0,
    async signSet({
      event = EVENTS.sessionRevoked,
      eventPayload = {},
      subject,
      claims = {},
      omit = [],
      typ = 'secevent+jwt',
      strangerKey,
    } = {}) {
      const payload: Record<string, unknown> = {
        iss: transmitter.issuer,
        aud: transmitter.audience,
        iat: Math.floor(Date.now() / 1000),
        jti: randomBytes(16).toString('base64url'),
        sub_id: subject ?? { format: 'iss_sub', iss: transmitter.issuer, sub: 'ssf-user' },
        events: { [event]: { event_timestamp: Math.floor(Date.now() / 1000), ...eventPayload } },
        ...claims,
      };
      for (const name of omit) delete payload[name];
      const signer = strangerKey ? stranger : key;
      return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ }).sign(signer.privateKey);
    },
    env(id, extra = {}) {
      const prefix = `SSF_${id.toUpperCase()}_`;
      return {
        SSF_TRANSMITTERS: id,
        [`${prefix}ISSUER`]: transmitter.issuer,
        [`${prefix}JWKS_URL`]: transmitter.jwksUrl,
        [`${prefix}AUDIENCE`]: transmitter.audience,
        ...extra,
      };
    },
    close: async () => {
      server.close();
      server.closeAllConnections();
    },
  };

  server = createServer((req, res) => {
    if (req.url === '/jwks') {
      transmitter.jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ keys: [key.publicJwk] }));
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  transmitter.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  transmitter.jwksUrl = `${transmitter.issuer}/jwks`;
  return transmitter;
}
