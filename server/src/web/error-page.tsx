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

/** Refusals a person cannot undo alone: the page says whom to ask (SUPPORT_CONTACT). */
const ASK_SUPPORT: ErrorCode[] = [
  'ACCOUNT_DISABLED',
  'ACCOUNT_BANNED',
  'SIGNUP_CLOSED',
  'DOMAIN_NOT_ALLOWED',
  'EMAIL_NOT_VERIFIED',
  'FORBIDDEN',
];

/** A failure a person sees: the safe message, what to do next, whom to ask, and the request id for support. */
export function ErrorPage(props: { code: ErrorCode; requestId: string; supportContact?: string | undefined }) {
  const { message } = ERROR_CODES[props.code];
  const contact = props.supportContact && ASK_SUPPORT.includes(props.code) ? props.supportContact : null;
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
        {contact ? (
          <p>
            If you think this is a mistake, contact <SupportContact contact={contact} /> and give them the reference below.
          </p>
        ) : null}
        <p class="muted small">Reference: {props.requestId}</p>
      </section>
    </Layout>
  );
}

/** An email address becomes a mail link, a web address a link, anything else stays text. */
function SupportContact({ contact }: { contact: string }) {
  if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(contact)) return <a href={`mailto:${contact}`}>{contact}</a>;
  if (/^https:\/\/[^\s]+$/.test(contact)) return <a href={contact}>{contact}</a>;
  return <>{contact}</>;
}
