/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ErrorBanner, Layout } from '../web/index.js';

/** The second step: a code from the authenticator app (or a recovery code), or enrolment first. */
export function TotpPage(props: { errorCode: string | null; enrol: { secret: string; qrSvg: string } | null }) {
  return (
    <Layout title="Two-factor authentication">
      <section class="card narrow">
        <h1>Two-factor authentication</h1>
        <ErrorBanner code={props.errorCode} />
        {props.enrol ? (
          <>
            <p>Your account needs two-factor authentication. Scan this code with an authenticator app, or type the key.</p>
            <img
              class="qr"
              width="220"
              height="220"
              alt="QR code of the two-factor key"
              src={`data:image/svg+xml;base64,${Buffer.from(props.enrol.qrSvg).toString('base64')}`}
            />
            <p>
              Key: <code data-totp-secret>{props.enrol.secret}</code>
            </p>
          </>
        ) : (
          <p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
        )}
        <form method="post" action="/sign-in/totp">
          <label>
            Code
            <input name="code" autocomplete="one-time-code" inputmode="numeric" required maxlength={32} />
          </label>
          <button class="button primary" type="submit">
            Continue
          </button>
        </form>
      </section>
    </Layout>
  );
}

/** Shown once after enrolment: the ten recovery codes. */
export function RecoveryCodesPage({ codes }: { codes: string[] }) {
  return (
    <Layout title="Recovery codes">
      <section class="card narrow">
        <h1>Save your recovery codes</h1>
        <p>Each code signs you in once if you lose your authenticator. They will not be shown again.</p>
        <ul class="recovery-codes">
          {codes.map((code) => (
            <li key={code}>
              <code>{code}</code>
            </li>
          ))}
        </ul>
        <a class="button primary" href="/account">
          I have saved them
        </a>
      </section>
    </Layout>
  );
}

/** The email and password form shown on the sign-in page beside the SSO buttons. */
export function PasswordForm({ returnTo }: { returnTo: string | null }) {
  return (
    <form method="post" action="/sign-in/password" class="password-sign-in">
      <h2>Sign in with a password</h2>
      <label>
        Email
        <input type="email" name="email" autocomplete="username" required maxlength={320} />
      </label>
      <label>
        Password
        <input type="password" name="password" autocomplete="current-password" required maxlength={1024} />
      </label>
      {returnTo ? <input type="hidden" name="return_to" value={returnTo} /> : null}
      <button class="button" type="submit">
        Sign in
      </button>
    </form>
  );
}

/**
 * The page a password reset link opens (docs/local-accounts.md). /assets/link.js moves the
 * fragment's token into the form; after a refused password the server renders the page again
 * with the token kept in the form, so the link need not be opened twice.
 */
export function ResetPasswordPage(props: { errorCode: string | null; token?: string }) {
  return (
    <Layout title="Set a new password" script="/assets/link.js">
      <section class="card narrow">
        <h1>Set a new password</h1>
        <ErrorBanner code={props.errorCode} />
        <form method="post" action="/reset-password" data-link-form="wait">
          <input type="hidden" name="token" value={props.token ?? ''} />
          <label>
            New password
            <input type="password" name="password" autocomplete="new-password" required maxlength={1024} />
          </label>
          <button class="button primary" type="submit">
            Set password
          </button>
        </form>
      </section>
    </Layout>
  );
}
