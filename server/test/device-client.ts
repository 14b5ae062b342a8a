// A device-flow client that is not the extension: plain oauth4webapi, as any third-party or CLI
// client would pair with Gatehouse (RFC 8628 + RFC 9449). The tests drive it against a real,
// listening backend, so every request goes over HTTP exactly as a client's would.
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oauth from 'oauth4webapi';
import { createHttpServer } from '../src/http/index.js';
import { createTestApp, type TestApp, type TestAppOptions } from './harness.js';
import { rememberSecret } from './suite-audit.js';

/** A test app listening on a real port, its PUBLIC_URL being that port. */
export interface ListeningApp extends TestApp {
  origin: string;
}

export async function createListeningApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<ListeningApp> {
  // Bind first so PUBLIC_URL (and with it every DPoP htu) names the real port.
  let handler: RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createHttpServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const t = await createTestApp({ PUBLIC_URL: origin, ...env }, options);
  handler = t.callback;
  const close = t.close;
  return Object.assign(t, {
    origin,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await close();
    },
  });
}

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

/** One paired client: its own non-extractable P-256 key, its tokens, and the standard calls. */
export class DeviceClient {
  readonly client: oauth.Client;
  private as!: oauth.AuthorizationServer;
  private keyPair!: CryptoKeyPair;
  dpop!: oauth.DPoPHandle;
  accessToken: string | null = null;
  refreshToken: string | null = null;

  /** Sends every request to `via` instead (another instance behind the same public URL). */
  via: string | null = null;

  private constructor(
    readonly origin: string,
    clientId: string,
  ) {
    this.client = { client_id: clientId };
  }

  static async create(origin: string, clientId = 'gatehouse-cli', keyPair?: CryptoKeyPair): Promise<DeviceClient> {
    const device = new DeviceClient(origin, clientId);
    const issuer = new URL(origin);
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...device.options() });
    device.as = await oauth.processDiscoveryResponse(issuer, response);
    device.keyPair = keyPair ?? (await oauth.generateKeyPair('ES256', { extractable: false }));
    device.dpop = oauth.DPoP(device.client, device.keyPair);
    return device;
  }

  get metadata(): oauth.AuthorizationServer {
    return this.as;
  }

  get key(): CryptoKeyPair {
    return this.keyPair;
  }

  /** Request options: plain http on loopback, and the optional rerouting to another instance. */
  options() {
    return {
      [oauth.allowInsecureRequests]: true,
      // biome-ignore lint/suspicious/noExplicitAny: oauth4webapi types each endpoint's options separately.
      [oauth.customFetch]: (url: string, init: any) => fetch(this.via ? url.replace(this.origin, this.via) : url, init),
    };
  }

  thumbprint(): Promise<string> {
    return this.dpop.calculateThumbprint();
  }

  /** RFC 8628 §3.1 with a DPoP proof (oauth4webapi doesn't add one to this request itself). */
  async start(scope?: string): Promise<DeviceAuthorization> {
    const response = await this.startRaw(scope);
    const started = (await oauth.processDeviceAuthorizationResponse(this.as, this.client, response)) as DeviceAuthorization;
    rememberSecret('a device code', started.device_code);
    return started;
  }

  async startRaw(scope?: string, headers: Headers = new Headers()): Promise<Response> {
    const url = new URL(this.as.device_authorization_endpoint as string);
    await (this.dpop as unknown as ProofMaker).addProof(url, headers, 'POST');
    const parameters = new URLSearchParams(scope ? { scope } : {});
    return oauth.deviceAuthorizationRequest(this.as, this.client, oauth.None(), parameters, {
      headers,
      ...this.options(),
    });
  }

  /** One poll of the token endpoint (device_code grant). */
  poll(deviceCode: string): Promise<oauth.TokenEndpointResponse> {
    return this.grant(async () => {
      const response = await oauth.deviceCodeGrantRequest(this.as, this.client, oauth.None(), deviceCode, {
        DPoP: this.dpop,
        ...this.options(),
      });
      return oauth.processDeviceCodeResponse(this.as, this.client, response);
    });
  }

  refresh(token = this.refreshToken): Promise<oauth.TokenEndpointResponse> {
    if (!token) throw new Error('not paired');
    return this.grant(async () => {
      const response = await oauth.refreshTokenGrantRequest(this.as, this.client, oauth.None(), token, {
        DPoP: this.dpop,
        ...this.options(),
      });
      return oauth.processRefreshTokenResponse(this.as, this.client, response);
    });
  }

  /** Runs a grant (once more when the server asks for a fresh nonce) and keeps its tokens. */
  private async grant(run: () => Promise<oauth.TokenEndpointResponse>): Promise<oauth.TokenEndpointResponse> {
    const result = await withNonceRetry(run);
    this.accessToken = result.access_token;
    this.refreshToken = result.refresh_token ?? null;
    rememberSecret('an access token', result.access_token);
    if (result.refresh_token) rememberSecret('a refresh token', result.refresh_token);
    return result;
  }

  /** A resource request with `Authorization: DPoP` and a proof carrying `ath`. */
  async call(method: string, path: string, accessToken = this.accessToken): Promise<Response> {
    if (!accessToken) throw new Error('no access token');
    try {
      return await oauth.protectedResourceRequest(accessToken, method, new URL(path, this.origin), new Headers(), null, {
        DPoP: this.dpop,
        ...this.options(),
      });
    } catch (error) {
      // oauth4webapi throws on a WWW-Authenticate challenge; the tests want to read the answer.
      if (error instanceof oauth.WWWAuthenticateChallengeError) return error.response;
      throw error;
    }
  }

  async revoke(token = this.refreshToken): Promise<void> {
    if (!token) return;
    const response = await oauth.revocationRequest(this.as, this.client, oauth.None(), token, {
      additionalParameters: { token_type_hint: 'refresh_token' },
      ...this.options(),
    });
    await oauth.processRevocationResponse(response);
  }
}

/** oauth4webapi's DPoP handle signs proofs for any request; it just doesn't type the method. */
interface ProofMaker {
  addProof(url: URL, headers: Headers, htm: string, accessToken?: string): Promise<void>;
}

async function withNonceRetry<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) return run();
    throw error;
  }
}

/** The RFC 6749 `error` of a failed grant, or null when it succeeded. */
export async function grantError(run: () => Promise<unknown>): Promise<string | null> {
  try {
    await run();
    return null;
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) return error.error;
    throw error;
  }
}

/** What a signed-in person does on the pair page: type the code, then approve or decline. */
export async function decideOnPairPage(
  app: ListeningApp,
  session: { cookie: string; sessionId: string },
  userCode: string,
  decision: 'approve' | 'decline',
) {
  const csrf = app.services.csrf.forSession(session.sessionId);
  const headers = { Cookie: session.cookie, Origin: app.origin, 'Content-Type': 'application/x-www-form-urlencoded' };
  const lookup = await fetch(`${app.origin}/pair`, { method: 'POST', headers, body: new URLSearchParams({ user_code: userCode, csrf }) });
  const decide = await fetch(`${app.origin}/pair/decide`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ user_code: userCode, decision, csrf }),
  });
  return { lookup: { status: lookup.status, html: await lookup.text() }, decide: { status: decide.status, html: await decide.text() } };
}
