// Types for index.mjs (the development IdP), for the TypeScript tests that import it.

export interface DevAccount {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
  groups: string[];
  password: string;
}

/** oidc-provider client metadata (the usual fields; any other registered field passes through). */
export interface DevIdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
  client_name?: string;
  [metadata: string]: unknown;
}

export interface DevIdpOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** Default `http://localhost:<port>`. */
  issuer?: string;
  clients: DevIdpClient[];
  /** Default DEMO_ACCOUNTS. */
  accounts?: DevAccount[];
  /** Keep the signing key in `<keysDir>/jwks.json`. */
  keysDir?: string;
}

/** The parts of oidc-provider's Provider a test may use (oidc-provider ships no types). */
export interface DevIdpProvider {
  issuer: string;
  Client: {
    find(clientId: string): Promise<{ backchannelLogout(sub: string, sid?: string): Promise<void> } | undefined>;
  };
  [member: string]: unknown;
}

export interface DevIdp {
  issuer: string;
  port: number;
  provider: DevIdpProvider;
  close(): Promise<void>;
}

export const DEMO_ACCOUNTS: readonly DevAccount[];
export function createDevIdp(options: DevIdpOptions): Promise<DevIdp>;
/**
 * Signs in at the dev IdP from a full authorization request URL; resolves with the first URL
 * outside the IdP (the client's redirect_uri with code, state and iss, or an OAuth error).
 * Rejects when the password is refused or the IdP shows an error page.
 */
export function signInAtDevIdp(authorizationUrl: string | URL, credentials: { login: string; password: string }): Promise<string>;
