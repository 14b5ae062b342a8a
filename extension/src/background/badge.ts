import type { PopupState } from '@gatehouse/shared';
import { browser } from 'wxt/browser';
import { backendStore, noticeStore, pairingStore, refreshTokenStore, unreachableStore } from '../state/items.js';
import { readPopupState } from './handlers.js';

export interface Attention {
  /** The badge text: empty when nothing needs the person. */
  text: string;
  color: string;
  /** The toolbar button's tooltip, which screen readers announce. */
  title: string;
}

/**
 * What the toolbar badge says (issue 13): pairing waits for approval, pairing ended (the notice
 * says why), or the backend cannot be reached. Nothing when all is well.
 */
export function attentionFor(state: PopupState, unreachable: boolean): Attention {
  if (state.notice) return { text: '!', color: '#b3261e', title: `Gatehouse: ${state.notice.message}` };
  if (state.state === 'pairing') return { text: '…', color: '#0b57d0', title: 'Gatehouse: approve the code on the pair page' };
  if (unreachable && state.state === 'paired')
    return { text: '?', color: '#8a5a00', title: 'Gatehouse: the backend cannot be reached right now' };
  return { text: '', color: '#0b57d0', title: 'Gatehouse' };
}

export async function updateBadge(): Promise<void> {
  const [state, unreachable] = await Promise.all([readPopupState(), unreachableStore.get()]);
  const attention = attentionFor(state, unreachable !== null);
  await browser.action.setBadgeText({ text: attention.text });
  await browser.action.setBadgeBackgroundColor({ color: attention.color });
  await browser.action.setTitle({ title: attention.title });
}

/** Keeps the badge in step with everything it depends on. */
export function watchBadge(): void {
  for (const store of [backendStore, refreshTokenStore, pairingStore, noticeStore, unreachableStore]) store.watch(() => void updateBadge());
  void updateBadge();
}
