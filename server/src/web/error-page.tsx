/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ERROR_CODES, type ErrorCode } from '@gatehouse/shared';
import { Banner, Layout } from './layout.js';

const SIGN_IN_AGAIN: ErrorCode[] = [
  'LOGIN_STATE_INVALID',
  'LOGIN_FAILED',
  'LOGIN_REJECTED',
  'PROVIDER_UNAVAILABLE',
  'UNAUTHENTICATED',
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'TOKEN_INVALID',
];

/** A failure a person sees: the safe message, what to do next, and the request id for support. */
export function ErrorPage(props: { code: ErrorCode; requestId: string }) {
  const { message } = ERROR_CODES[props.code];
  return (
    <Layout title="Something stopped you">
      <section class="card narrow">
        <h1>{props.code === 'ACCOUNT_DISABLED' || props.code === 'ACCOUNT_BANNED' ? 'Access refused' : 'That did not work'}</h1>
        <Banner kind="error">{message}</Banner>
        {SIGN_IN_AGAIN.includes(props.code) ? (
          <p>
            <a class="button primary" href="/sign-in">
              Back to sign-in
            </a>
          </p>
        ) : (
          <p>
            <a href="/">Back to the start page</a>
          </p>
        )}
        <p class="muted small">Reference: {props.requestId}</p>
      </section>
    </Layout>
  );
}
