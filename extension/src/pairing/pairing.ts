import { fingerprintPhrase, formatUserCode, normalizeUserCode, type PairingView } from '@gatehouse/shared';
import * as oauth from 'oauth4webapi';
import { ExtensionError, type ExtensionErrorCode, toExtensionError } from '../errors.js';
import {
  authorizationServer,
  CLIENT,
  CLIENT_AUTH,
  dpopHandle,
  oauthErrorCode,
  requestDeviceAuthorization,
  requestOptions,
  revokeRefreshToken,
  withNonceRetry,
} from '../oauth/client.js';
import { afterPendingRefresh, storeTokenResponse } from '../oauth/tokens.js';
import { backendStore, noticeStore, type PairingState, pairingStore, refreshTokenStore } from '../state/items.js';

/**
 * Pairing is the device authorization grant (RFC 8628) with DPoP. The state lives in
 * `storage.session`, not in the popup: the popup closes as soon as the person switches to the
 * pair page, and the service worker may be stopped and restarted while they approve.
 */

export function pairingView(state: PairingState): PairingView {
  const code = normalizeUserCode(state.userCode);
  return {
    userCode: code ? formatUserCode(code) : state.userCode,
    phrase: state.phrase,
    verificationUri: state.verificationUri,
    verificationUriComplete: state.verificationUriComplete,
    expiresAt: state.expiresAt,
  };
}

/** Starts a new pairing (replacing one in progress) and returns what the popup shows. */
export async function startPairing(now = Date.now()): Promise<PairingState> {
  const backend = await backendStore.get();
  if (!backend) throw new ExtensionError('NOT_CONFIGURED');
  const as = authorizationServer(backend.metadata);
  const dpop = await dpopHandle();
  let response: oauth.DeviceAuthorizationResponse;
  try {
    response = await requestDeviceAuthorization(as, backend.origin, dpop);
  } catch (error) {
    if (oauthErrorCode(error)) throw new ExtensionError('PAIRING_NOT_STARTED', undefined, { cause: error });
    throw toExtensionError(error);
  }
  const state: PairingState = {
    origin: backend.origin,
    deviceCode: response.device_code,
    userCode: response.user_code,
    verificationUri: response.verification_uri,
    verificationUriComplete: response.verification_uri_complete ?? response.verification_uri,
    phrase: fingerprintPhrase(await dpop.calculateThumbprint()),
    expiresAt: now + response.expires_in * 1000,
    interval: Math.max(1, response.interval ?? 5),
  };
  await pairingStore.set(state);
  await noticeStore.set(null);
  return state;
}

export async function cancelPairing(): Promise<void> {
  await pairingStore.set(null);
}

/** What one poll of the token endpoint decided. `next` is the delay before the next poll, in ms. */
export type PollOutcome =
  | { status: 'pending'; next: number }
  | { status: 'paired' }
  | { status: 'ended'; code: ExtensionErrorCode }
  | { status: 'idle' };

let polling: Promise<PollOutcome> | null = null;

/** Polls the token endpoint once for the pairing in progress; concurrent callers share one poll. */
export function pollPairing(now?: number): Promise<PollOutcome> {
  polling ??= pollOnce(now).finally(() => {
    polling = null;
  });
  return polling;
}

async function pollOnce(now = Date.now()): Promise<PollOutcome> {
  const state = await pairingStore.get();
  if (!state) return { status: 'idle' };
  if (now >= state.expiresAt) return finish(state, 'PAIRING_EXPIRED');
  const backend = await backendStore.get();
  if (backend?.origin !== state.origin) {
    await pairingStore.set(null);
    return { status: 'idle' };
  }
  const as = authorizationServer(backend.metadata);
  const DPoP = await dpopHandle();
  let result: oauth.TokenEndpointResponse;
  try {
    result = await withNonceRetry(async () => {
      const response = await oauth.deviceCodeGrantRequest(as, CLIENT, CLIENT_AUTH, state.deviceCode, {
        ...requestOptions(backend.origin),
        DPoP,
      });
      return oauth.processDeviceCodeResponse(as, CLIENT, response);
    });
  } catch (error) {
    switch (oauthErrorCode(error)) {
      case 'authorization_pending':
        return { status: 'pending', next: state.interval * 1000 };
      case 'slow_down': {
        const interval = state.interval + 5;
        await pairingStore.set({ ...state, interval });
        return { status: 'pending', next: interval * 1000 };
      }
      case 'access_denied':
        return finish(state, 'PAIRING_DECLINED');
      case 'expired_token':
      case 'invalid_grant':
        return finish(state, 'PAIRING_EXPIRED');
      default:
        // The network or the backend failed for a moment: keep the pairing and try again later.
        if (toExtensionError(error).code === 'BACKEND_UNREACHABLE') return { status: 'pending', next: state.interval * 2000 };
        return finish(state, 'PAIRING_NOT_STARTED');
    }
  }
  // Only the pairing we polled for may complete (it could have been cancelled meanwhile).
  const current = await pairingStore.get();
  if (current?.deviceCode !== state.deviceCode) return { status: 'idle' };
  await afterPendingRefresh(async () => {
    const previous = await refreshTokenStore.get();
    await storeTokenResponse(backend.origin, result);
    await pairingStore.set(null);
    await noticeStore.set(null);
    // Re-pairing replaces the old pairing: its refresh token must not stay usable.
    if (previous && previous.origin === backend.origin && previous.token !== result.refresh_token) {
      void revokeRefreshToken(as, backend.origin, previous.token);
    }
  });
  return { status: 'paired' };
}

async function finish(state: PairingState, code: ExtensionErrorCode): Promise<PollOutcome> {
  const current = await pairingStore.get();
  if (current?.deviceCode === state.deviceCode) await pairingStore.set(null);
  await noticeStore.set({ code, message: new ExtensionError(code).message });
  return { status: 'ended', code };
}
