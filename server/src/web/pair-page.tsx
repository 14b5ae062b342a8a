/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { Banner, Layout } from './layout.js';

export interface PairRequestView {
  userCode: string;
  client: string;
  device: string;
  network: string;
  sameNetwork: boolean;
  startedAt: string;
  phrase: string;
}

/** Step 1: the code box (prefilled from the link the extension opened). */
export function PairCodePage(props: { code: string; csrfToken: string; error: string | null }) {
  return (
    <Layout title="Pair a device" script="/assets/pair.js">
      <section class="card narrow">
        <h1>Pair a device</h1>
        <p>Type the code your browser extension (or other device) shows. It looks like ABCD-2345.</p>
        {props.error ? <Banner kind="error">{props.error}</Banner> : null}
        {/* A code that came with the link (the popup's "Open the pair page") is looked up at once
            by /assets/pair.js: the confirmation with the device's phrase still needs Approve. */}
        <form id="pair-lookup" method="post" action="/pair" class="stacked-form" data-auto={props.code && !props.error ? '' : undefined}>
          <input type="hidden" name="csrf" value={props.csrfToken} />
          <label for="user-code">Code</label>
          <input
            id="user-code"
            name="user_code"
            value={props.code}
            required
            maxLength={32}
            autocomplete="off"
            autocapitalize="characters"
            spellcheck={false}
            class="code-input"
          />
          <button id="pair-continue" type="submit" class="button primary wide">
            Continue
          </button>
        </form>
      </section>
    </Layout>
  );
}

/** Step 2: what is asking, from where, and the phrase to compare; then approve or decline. */
export function PairConfirmPage(props: { request: PairRequestView; csrfToken: string }) {
  const { request } = props;
  return (
    <Layout title="Approve this device?">
      <section class="card narrow">
        <h1>Approve this device?</h1>
        <p>Only approve if you started pairing yourself just now and the words below match what your device shows.</p>
        <dl class="facts">
          <dt>App</dt>
          <dd id="pair-client">{request.client}</dd>
          <dt>Device</dt>
          <dd id="pair-device">{request.device}</dd>
          <dt>Started</dt>
          <dd>
            <time dateTime={request.startedAt}>{request.startedAt.replace('T', ' ').slice(0, 16)} UTC</time>
          </dd>
          <dt>From</dt>
          <dd>
            {request.network}
            {request.sameNetwork ? ' (the same network as you)' : ' (a different network from yours)'}
          </dd>
          <dt>Words</dt>
          <dd id="pair-phrase" class="phrase">
            {request.phrase}
          </dd>
        </dl>
        <form method="post" action="/pair/decide" class="row">
          <input type="hidden" name="csrf" value={props.csrfToken} />
          <input type="hidden" name="user_code" value={request.userCode} />
          <button id="pair-approve" type="submit" name="decision" value="approve" class="button primary">
            Approve
          </button>
          <button id="pair-decline" type="submit" name="decision" value="decline" class="button">
            Decline
          </button>
        </form>
      </section>
    </Layout>
  );
}

const OUTCOMES = {
  approved: { title: 'Device paired', text: 'Your device is paired. Go back to it: it finishes on its own within a few seconds.' },
  declined: { title: 'Pairing declined', text: 'Nothing was paired. The device cannot use this code again.' },
  invalid: {
    title: 'Code not accepted',
    text: 'That code is not valid, has expired or was already used. Start pairing again on your device for a new code.',
  },
} as const;

/** Step 3: the outcome, in plain words. */
export function PairOutcomePage(props: { outcome: keyof typeof OUTCOMES }) {
  const { title, text } = OUTCOMES[props.outcome];
  return (
    <Layout title={title}>
      <section class="card narrow">
        <h1>{title}</h1>
        <p id="pair-outcome" data-outcome={props.outcome} role="status">
          {text}
        </p>
        <p>
          <a href="/account">Your account and paired devices</a>
        </p>
      </section>
    </Layout>
  );
}
