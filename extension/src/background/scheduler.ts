import { browser } from 'wxt/browser';
import { getAccessToken } from '../oauth/tokens.js';
import { pollPairing } from '../pairing/pairing.js';
import { pairingStore, refreshTokenStore } from '../state/items.js';
import { noteReachability } from './reachability.js';

/**
 * Timing that survives the service worker being stopped. Alarms wake the worker (Chrome gives
 * them a 30 s minimum); while the worker is awake, a plain timer polls at the server's own
 * interval (5 s) so pairing completes promptly. After a restart, `resumeWork` picks up from
 * storage.session.
 */

export const POLL_ALARM = 'gatehouse.pairing-poll';
export const REFRESH_ALARM = 'gatehouse.token-refresh';
const ALARM_MINIMUM_MS = 30_000;
/** Refresh this long before the access token expires. */
const REFRESH_LEAD_MS = 60_000;

let pollTimer: ReturnType<typeof setTimeout> | undefined;

export function schedulePoll(delayMs: number): void {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(() => void runPoll(), delayMs);
  // The backstop in case the worker is stopped before the timer fires.
  void browser.alarms.create(POLL_ALARM, { when: Date.now() + Math.max(delayMs, ALARM_MINIMUM_MS) });
}

export function stopPolling(): void {
  clearTimeout(pollTimer);
  void browser.alarms.clear(POLL_ALARM);
}

async function runPoll(): Promise<void> {
  const outcome = await pollPairing().catch((error: unknown) => {
    console.error('gatehouse: pairing poll failed', error);
    return { status: 'pending' as const, next: 10_000 };
  });
  if (outcome.status === 'pending') schedulePoll(outcome.next);
  else stopPolling();
}

export function scheduleRefresh(expiresAt: number): void {
  const when = Math.max(expiresAt - REFRESH_LEAD_MS, Date.now() + ALARM_MINIMUM_MS);
  void browser.alarms.create(REFRESH_ALARM, { when });
}

async function runRefresh(): Promise<void> {
  if (!(await refreshTokenStore.get())) return;
  // Renew now if it will not last until a little after the next alarm could fire.
  await getAccessToken({ minValidityMs: REFRESH_LEAD_MS + ALARM_MINIMUM_MS }).then(
    () => noteReachability(null),
    (error: unknown) => {
      console.warn('gatehouse: scheduled refresh failed', error);
      return noteReachability(error);
    },
  );
}

export function onAlarm(alarm: { name: string }): void {
  if (alarm.name === POLL_ALARM) void runPoll();
  else if (alarm.name === REFRESH_ALARM) void runRefresh();
}

/** After a (re)start: continue a pairing in progress, one interval on (polling sooner earns a slow_down). */
export async function resumeWork(): Promise<void> {
  const pairing = await pairingStore.get();
  if (pairing) schedulePoll(pairing.interval * 1000);
}

/** After disconnect: nothing left to renew. */
export function stopRefreshing(): void {
  void browser.alarms.clear(REFRESH_ALARM);
}
