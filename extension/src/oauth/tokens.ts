import * as oauth from 'oauth4webapi';
import { ExtensionError, toExtensionError } from '../errors.js';
import { accessTokenStore, backendStore, clearCredentials, noticeStore, refreshTokenStore } from '../state/items.js';
import { authorizationServer, CLIENT, CLIENT_AUTH, dpopHandle, oauthErrorCode, requestOptions, withNonceRetry } from './client.js';

/**
 * Access tokens for API calls, from the rotating refresh token (the refresh_token grant with
 * DPoP). Invariants:
 * - one refresh at a time: every refresh runs on one promise chain, so two callers never send
 *   the same refresh token (the backend treats a replayed one as theft and ends the pairing);
 * - the rotated refresh token is persisted before anything else is done with the response;
 * - `invalid_grant` means the pairing is gone: every credential is wiped and a notice left.
 */

/** An access token is renewed when it has less than this left. */
const MIN_VALIDITY_MS = 30_000;

let chain: Promise<unknown> = Promise.resolve();

/** Runs `task` after every earlier task on the chain has settled. */
function serialised<T>(task: () => Promise<T>): Promise<T> {
  const run = chain.then(task, task);
  chain = run.catch(() => undefined);
  return run;
}

/** Called with the access token's expiry after each successful token response (schedules the next refresh). */
type ExpiryListener = (expiresAt: number) => void;
let onTokenStored: ExpiryListener = () => undefined;
export function setTokenExpiryListener(listener: ExpiryListener): void {
  onTokenStored = listener;
}

/** Stores the result of a token response: the refresh token first, because the old one is already spent. */
export async function storeTokenResponse(origin: string, response: oauth.TokenEndpointResponse, now = Date.now()): Promise<void> {
  if (response.refresh_token) await refreshTokenStore.set({ token: response.refresh_token, origin });
  const expiresAt = now + (response.expires_in ?? 300) * 1000;
  await accessTokenStore.set({ token: response.access_token, origin, expiresAt });
  onTokenStored(expiresAt);
}

/**
 * A valid access token for the paired backend, refreshed first if it has less than `minValidityMs`
 * left. Pass `stale` (a token the server just rejected) to force a refresh unless another caller
 * already replaced it.
 */
export function getAccessToken(options: { minValidityMs?: number; stale?: string } = {}): Promise<string> {
  return serialised(async () => {
    const current = await accessTokenStore.get();
    const minValidity = options.minValidityMs ?? MIN_VALIDITY_MS;
    if (current && current.token !== options.stale && current.expiresAt - Date.now() > minValidity) {
      const backend = await backendStore.get();
      if (backend?.origin === current.origin) return current.token;
    }
    return refreshNow();
  });
}

async function refreshNow(): Promise<string> {
  const backend = await backendStore.get();
  if (!backend) throw new ExtensionError('NOT_CONFIGURED');
  const stored = await refreshTokenStore.get();
  if (!stored || stored.origin !== backend.origin) throw new ExtensionError('NOT_PAIRED');
  const as = authorizationServer(backend.metadata);
  const DPoP = await dpopHandle();
  let result: oauth.TokenEndpointResponse;
  try {
    result = await withNonceRetry(async () => {
      const response = await oauth.refreshTokenGrantRequest(as, CLIENT, CLIENT_AUTH, stored.token, {
        ...requestOptions(backend.origin),
        DPoP,
      });
      return oauth.processRefreshTokenResponse(as, CLIENT, response);
    });
  } catch (error) {
    const code = oauthErrorCode(error);
    if (code === 'invalid_grant') {
      await endPairing();
      throw new ExtensionError('PAIRING_ENDED', undefined, { cause: error });
    }
    throw toExtensionError(error);
  }
  await storeTokenResponse(backend.origin, result);
  return result.access_token;
}

/** The pairing is over on the server side: keep nothing usable, and say so in the popup. */
export async function endPairing(): Promise<void> {
  await clearCredentials();
  await noticeStore.set({ code: 'PAIRING_ENDED', message: new ExtensionError('PAIRING_ENDED').message });
}

/** Waits for any refresh in flight (used before wiping state, so a late rotation cannot resurrect it). */
export function afterPendingRefresh<T>(task: () => Promise<T>): Promise<T> {
  return serialised(task);
}
