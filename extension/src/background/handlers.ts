import type { PopupState } from '@gatehouse/shared';
import { fetchAccount, revokeOtherSessions, revokeSession } from '../api/account.js';
import type { Handlers } from '../messaging/router.js';
import { cancelPairing, pairingView, startPairing } from '../pairing/pairing.js';
import { backendStore, noticeStore, pairingStore, refreshTokenStore } from '../state/items.js';
import { disconnect, setBackend } from './backend.js';
import { reaching } from './reachability.js';
import { schedulePoll, stopPolling, stopRefreshing } from './scheduler.js';

/** Which screen the popup shows, derived from storage alone (so it survives any restart). */
export async function readPopupState(now = Date.now()): Promise<PopupState> {
  const [backend, refresh, pairing, notice] = await Promise.all([
    backendStore.get(),
    refreshTokenStore.get(),
    pairingStore.get(),
    noticeStore.get(),
  ]);
  if (!backend) return { state: 'not-configured', backend: null, pairing: null, notice };
  const activePairing = pairing && pairing.origin === backend.origin && pairing.expiresAt > now ? pairing : null;
  if (activePairing) return { state: 'pairing', backend: backend.origin, pairing: pairingView(activePairing), notice };
  if (refresh?.origin === backend.origin) return { state: 'paired', backend: backend.origin, pairing: null, notice };
  return { state: 'not-paired', backend: backend.origin, pairing: null, notice };
}

export const handlers: Handlers = {
  'state.get': () => readPopupState(),
  'backend.set': (request) => setBackend(request.url),
  'backend.disconnect': async () => {
    stopPolling();
    stopRefreshing();
    return disconnect();
  },
  'pairing.start': async () => {
    const state = await startPairing();
    schedulePoll(state.interval * 1000);
    return pairingView(state);
  },
  'pairing.cancel': async () => {
    stopPolling();
    await cancelPairing();
    return {};
  },
  'account.get': () => reaching(fetchAccount),
  'session.revoke': async (request) => {
    await revokeSession(request.sessionId);
    return {};
  },
  'sessions.revokeOthers': async () => ({ revoked: await revokeOtherSessions() }),
};
