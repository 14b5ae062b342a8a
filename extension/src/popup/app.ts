import type { AccountWithSessions, PairingView, PopupState, SessionView } from '@gatehouse/shared';
import { browser } from 'wxt/browser';
import { ExtensionError, toExtensionError } from '../errors.js';
import { sendRequest } from '../messaging/send.js';
import { backendStore, noticeStore, pairingStore, refreshTokenStore } from '../state/items.js';
import { h, setMessage } from './dom.js';
import { formatCountdown, formatTime, kindLabel } from './format.js';

/**
 * The popup: one of four screens chosen by the background's state, re-rendered whenever that
 * state changes in storage (pairing can complete while the popup is open in a tab, and the
 * background can end a pairing at any time).
 */
export function mountPopup(app: HTMLElement): void {
  const message = app.querySelector<HTMLElement>('#message') ?? app.appendChild(h('p', { id: 'message' }));
  const view = app.querySelector<HTMLElement>('#view') ?? app.appendChild(h('section', { id: 'view' }));
  let current: PopupState | null = null;
  let transient: string | null = null;
  /** Whether `transient` reports a failure (styled as one) or a success (styled as news). */
  let transientKind: 'error' | 'info' = 'error';
  let countdown: ReturnType<typeof setInterval> | undefined;
  let rendering = Promise.resolve();

  const showMessage = () => {
    setMessage(message, current?.notice?.message ?? transient);
    message.dataset.kind = current?.notice ? 'error' : transientKind;
  };
  const fail = (error: unknown) => {
    transient = toExtensionError(error).message;
    transientKind = 'error';
    showMessage();
  };

  /** Runs a button's action with the button disabled; errors land in #message. */
  const act = (button: HTMLButtonElement, action: () => Promise<void>) => {
    button.addEventListener('click', async () => {
      transient = null;
      showMessage();
      button.disabled = true;
      try {
        await action();
      } catch (error) {
        fail(error);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  };

  const renderNotConfigured = () => {
    view.replaceChildren(
      h('p', {}, 'Set the address of your Gatehouse backend to get started.'),
      act(h('button', { id: 'open-options', type: 'button' }, 'Open options'), () => browser.runtime.openOptionsPage()),
    );
  };

  const renderNotPaired = (state: PopupState) => {
    view.replaceChildren(
      h('p', {}, 'This browser is not paired with ', h('strong', {}, state.backend ?? 'Gatehouse'), '.'),
      act(h('button', { id: 'pair', type: 'button', class: 'primary' }, 'Pair this browser'), async () => {
        await sendRequest({ type: 'pairing.start' });
        await refresh();
      }),
    );
  };

  const renderPairing = (pairing: PairingView) => {
    const timer = h('span', { id: 'countdown' }, formatCountdown(pairing.expiresAt));
    const link = h(
      'a',
      { id: 'open-pair-page', href: pairing.verificationUriComplete, target: '_blank', rel: 'noopener' },
      'Open the pair page',
    );
    link.addEventListener('click', (event) => {
      event.preventDefault();
      void browser.tabs.create({ url: pairing.verificationUriComplete }).catch(fail);
    });
    view.replaceChildren(
      h('p', {}, 'Approve this code on the Gatehouse pair page:'),
      h('p', { class: 'code', id: 'user-code', 'aria-label': `Code ${pairing.userCode.split('').join(' ')}` }, pairing.userCode),
      h('p', {}, 'Check that the page shows the same phrase: ', h('strong', { id: 'fingerprint' }, pairing.phrase)),
      h('p', { role: 'timer', 'aria-live': 'off' }, 'Waiting for approval. The code expires in ', timer, '.'),
      h('p', {}, link),
      act(h('button', { id: 'cancel-pairing', type: 'button' }, 'Cancel'), async () => {
        await sendRequest({ type: 'pairing.cancel' });
        await refresh();
      }),
    );
    countdown = setInterval(() => {
      timer.textContent = formatCountdown(pairing.expiresAt);
      if (pairing.expiresAt <= Date.now()) {
        clearInterval(countdown);
        void refresh();
      }
    }, 1000);
  };

  const sessionItem = (session: SessionView) => {
    // Where and when tell rows of the same browser apart; this extension's own row says so and
    // has no Revoke (it is disconnected from the account page, not from inside itself).
    const where = session.ip ? ` · from ${session.ip}` : '';
    return h(
      'li',
      { 'data-session-id': session.id, 'data-kind': session.kind, 'data-current': String(session.current) },
      h('span', { class: 'device' }, session.device, session.current ? h('span', { class: 'current' }, ' (this browser)') : null),
      h(
        'span',
        { class: 'meta' },
        `${kindLabel(session.kind)}${where} · created ${formatTime(session.createdAt)} · last seen ${formatTime(session.lastSeenAt)}`,
      ),
      session.current ? null : revokeButton(session),
    );
  };

  /**
   * A button that asks first, in place, what will stop working (issue 13): Yes runs `action`,
   * Cancel puts the button back. An inline question, because a popup cannot open a dialog.
   */
  const askingButton = (
    ask: HTMLButtonElement,
    question: { label: string; text: string; yes: HTMLButtonElement },
    action: () => Promise<void>,
  ): HTMLElement => {
    ask.addEventListener('click', () => {
      const yes = act(question.yes, action);
      const no = h('button', { type: 'button', class: 'cancel' }, 'Cancel');
      const group = h('div', { class: 'confirm', role: 'group', 'aria-label': question.label }, h('span', {}, question.text), yes, no);
      no.addEventListener('click', () => {
        group.replaceWith(ask);
        ask.focus();
      });
      ask.replaceWith(group);
      yes.focus();
    });
    return ask;
  };

  const revokeButton = (session: SessionView): HTMLElement =>
    askingButton(
      h('button', { type: 'button', class: 'revoke', 'aria-label': `Revoke ${session.device}` }, 'Revoke'),
      {
        label: `Revoke ${session.device}?`,
        text: `${session.device} (${kindLabel(session.kind).toLowerCase()}) stops working at its next request.`,
        yes: h('button', { type: 'button', class: 'confirm-revoke danger' }, 'Yes, revoke'),
      },
      async () => {
        await sendRequest({ type: 'session.revoke', sessionId: session.id });
        await loadAccount();
      },
    );

  /** Every other browser, paired device and API token of the account. */
  const revokeOthersButton = (): HTMLElement =>
    askingButton(
      h('button', { id: 'revoke-others', type: 'button' }, 'Sign out everywhere else'),
      {
        label: 'Sign out everywhere else?',
        text: 'Every other browser, paired device and API token of your account stops working; this one stays signed in.',
        yes: h('button', { id: 'confirm-revoke-others', type: 'button', class: 'danger' }, 'Yes, sign them out'),
      },
      async () => {
        const { revoked } = await sendRequest({ type: 'sessions.revokeOthers' });
        transient = revoked === 1 ? 'Signed out 1 other session.' : `Signed out ${revoked} other sessions.`;
        transientKind = 'info';
        await loadAccount();
        showMessage();
      },
    );

  const renderAccount = (data: AccountWithSessions) => {
    view.replaceChildren(
      h(
        'p',
        { class: 'account' },
        h('strong', { id: 'account-name' }, data.account.name),
        h('br'),
        h('span', { id: 'account-email' }, data.account.email ?? 'No verified email'),
      ),
      h('h2', { id: 'sessions-heading' }, 'Sessions'),
      h('ul', { id: 'sessions', 'aria-labelledby': 'sessions-heading' }, ...data.sessions.map(sessionItem)),
      ...(data.activity.length > 0
        ? [
            h('h2', { id: 'activity-heading' }, 'Recent activity'),
            h(
              'ul',
              { id: 'activity', 'aria-labelledby': 'activity-heading' },
              ...data.activity.map((entry) =>
                h(
                  'li',
                  { 'data-action-name': entry.action },
                  h('span', { class: 'device' }, entry.description),
                  h(
                    'span',
                    { class: 'meta' },
                    [formatTime(entry.time), entry.device ? `from ${entry.device}` : null].filter(Boolean).join(' · '),
                  ),
                ),
              ),
            ),
          ]
        : []),
      h(
        'div',
        { class: 'actions' },
        revokeOthersButton(),
        act(h('button', { id: 'refresh', type: 'button' }, 'Refresh'), () => loadAccount()),
      ),
    );
  };

  const loadAccount = async () => {
    try {
      renderAccount(await sendRequest({ type: 'account.get' }));
    } catch (error) {
      // The background has already wiped the pairing; the storage change re-renders the screen.
      // Not awaited: this may run inside a render, and renders run one at a time.
      if (error instanceof ExtensionError && error.code === 'PAIRING_ENDED') {
        void refresh();
        return;
      }
      if (!view.querySelector('#sessions')) {
        view.replaceChildren(act(h('button', { id: 'refresh', type: 'button' }, 'Try again'), () => loadAccount()));
      }
      throw error;
    }
  };

  const render = async (state: PopupState) => {
    const previous = current;
    current = state;
    showMessage();
    if (previous?.state === state.state && state.state !== 'pairing') return;
    clearInterval(countdown);
    if (state.state === 'not-configured') renderNotConfigured();
    else if (state.state === 'not-paired') renderNotPaired(state);
    else if (state.state === 'pairing' && state.pairing) renderPairing(state.pairing);
    else if (state.state === 'paired') {
      // "paired" is announced once the account is on screen (or failed to load, with a message).
      app.dataset.state = 'loading';
      view.replaceChildren(h('p', { 'aria-busy': 'true' }, 'Loading your sessions…'));
      await loadAccount().catch(fail);
      if (current !== state) return;
    }
    app.dataset.state = state.state;
    // Keyboard users keep their place: when the screen changed under them, focus its first control.
    // Never a destructive one: on the account view that is Refresh, not a session's Revoke.
    if (previous && !app.contains(document.activeElement))
      (view.querySelector<HTMLElement>('#refresh') ?? view.querySelector<HTMLElement>('button:not(.revoke), a[href]'))?.focus();
  };

  /** Asks the background for the current state and renders it (one render at a time). */
  const refresh = (): Promise<void> => {
    rendering = rendering.then(async () => {
      try {
        await render(await sendRequest({ type: 'state.get' }));
      } catch (error) {
        fail(error);
      }
    });
    return rendering;
  };

  for (const store of [backendStore, refreshTokenStore, pairingStore, noticeStore]) store.watch(() => void refresh());
  void refresh();
}
