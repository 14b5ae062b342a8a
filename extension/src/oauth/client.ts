import { DEVICE_CODE_GRANT, EXTENSION_CLIENT } from '@gatehouse/shared';
import * as oauth from 'oauth4webapi';
import { isLocalHttp } from '../backend/url.js';
import { loadOrCreateKeyPair } from '../crypto/key-store.js';
import { ExtensionError } from '../errors.js';
import type { BackendMetadata } from '../state/items.js';

/**
 * The extension as an OAuth 2.0 public client (oauth4webapi does the protocol: device grant,
 * DPoP proofs and nonces, refresh, revocation). This module only wires it to our key and backend.
 */

export const CLIENT: oauth.Client = { client_id: EXTENSION_CLIENT.id };
export const CLIENT_AUTH = oauth.None();
export const SCOPE = EXTENSION_CLIENT.scopes.join(' ');
/** No call to the backend waits longer than this. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Options for every oauth4webapi call to `origin`: a timeout, and plain http only for a local backend. */
export function requestOptions(origin: string) {
  return {
    signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    ...(isLocalHttp(origin) ? { [oauth.allowInsecureRequests]: true } : {}),
  };
}

export function authorizationServer(metadata: BackendMetadata): oauth.AuthorizationServer {
  return metadata as oauth.AuthorizationServer;
}

/** Fetches and checks RFC 8414 metadata: the issuer must be exactly the origin we were given. */
export async function discoverBackend(origin: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(origin);
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...requestOptions(origin) });
  let metadata: oauth.AuthorizationServer;
  try {
    metadata = await oauth.processDiscoveryResponse(issuer, response);
  } catch (error) {
    throw new ExtensionError('BACKEND_INVALID', undefined, { cause: error });
  }
  const grants = metadata.grant_types_supported ?? [];
  const algs = metadata.dpop_signing_alg_values_supported ?? [];
  const sameOrigin = (value: unknown) => typeof value === 'string' && URL.canParse(value) && new URL(value).origin === origin;
  if (
    metadata.issuer !== origin ||
    !sameOrigin(metadata.device_authorization_endpoint) ||
    !sameOrigin(metadata.token_endpoint) ||
    (metadata.revocation_endpoint !== undefined && !sameOrigin(metadata.revocation_endpoint)) ||
    !grants.includes(DEVICE_CODE_GRANT) ||
    !algs.includes('ES256')
  ) {
    throw new ExtensionError('BACKEND_INVALID');
  }
  return metadata;
}

let handle: { keys: CryptoKeyPair; dpop: oauth.DPoPHandle } | null = null;

/** The DPoP handle for the stored key (it also remembers the server's nonces while we run). */
export async function dpopHandle(): Promise<oauth.DPoPHandle> {
  const keys = await loadOrCreateKeyPair();
  if (handle?.keys.privateKey !== keys.privateKey) handle = { keys, dpop: oauth.DPoP(CLIENT, keys) };
  return handle.dpop;
}

/** Forgets the cached handle (after the key was deleted). */
export function forgetDpopHandle(): void {
  handle = null;
}

/**
 * oauth4webapi adds DPoP proofs to token and resource requests itself but not to the device
 * authorization request, which our backend also binds to the key. The handle's runtime methods
 * `addProof` and `cacheNonce` are what the library uses internally; we reach them through this
 * narrow cast instead of writing JWT code.
 */
interface DPoPInternals {
  addProof(url: URL, headers: Headers, htm: string): Promise<void>;
  cacheNonce(response: Response, url: URL): void;
}

/** POST to the device authorization endpoint with a DPoP proof, retrying once for a server nonce. */
export async function requestDeviceAuthorization(
  as: oauth.AuthorizationServer,
  origin: string,
  dpop: oauth.DPoPHandle,
): Promise<oauth.DeviceAuthorizationResponse> {
  const internals = dpop as unknown as DPoPInternals;
  const endpoint = new URL(String(as.device_authorization_endpoint));
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers();
    await internals.addProof(endpoint, headers, 'POST');
    const response = await oauth.deviceAuthorizationRequest(
      as,
      CLIENT,
      CLIENT_AUTH,
      { scope: SCOPE },
      { ...requestOptions(origin), headers },
    );
    internals.cacheNonce(response, endpoint);
    try {
      return await oauth.processDeviceAuthorizationResponse(as, CLIENT, response);
    } catch (error) {
      if (attempt === 0 && oauth.isDPoPNonceError(error)) continue;
      throw error;
    }
  }
}

/** Runs an oauth4webapi request/response pair, retrying once when the server asks for a fresh DPoP nonce. */
export async function withNonceRetry<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) return call();
    throw error;
  }
}

/** The OAuth error code of a token endpoint failure (`invalid_grant`, `authorization_pending` …), if any. */
export function oauthErrorCode(error: unknown): string | null {
  return error instanceof oauth.ResponseBodyError ? error.error : null;
}

/** Best-effort RFC 7009 revocation of a refresh token: never throws. */
export async function revokeRefreshToken(as: oauth.AuthorizationServer, origin: string, token: string): Promise<boolean> {
  if (!as.revocation_endpoint) return false;
  try {
    const response = await oauth.revocationRequest(as, CLIENT, CLIENT_AUTH, token, {
      ...requestOptions(origin),
      additionalParameters: { token_type_hint: 'refresh_token' },
    });
    await oauth.processRevocationResponse(response);
    return true;
  } catch {
    return false;
  }
}
