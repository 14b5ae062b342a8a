/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ErrorBanner, Layout } from '../web/index.js';

/**
 * The page an invitation link opens. The token is in the link's fragment, which no server or
 * proxy log ever sees; /assets/link.js moves it into the form and sends it (a person without
 * script presses Continue after pasting nothing: the server then answers "not valid").
 */
export function InviteLandingPage({ errorCode }: { errorCode: string | null }) {
  return (
    <Layout title="Invitation" script="/assets/link.js">
      <section class="card narrow">
        <h1>You are invited</h1>
        <ErrorBanner code={errorCode} />
        <form method="post" action="/invite" data-link-form>
          <input type="hidden" name="token" value="" />
          <p>Checking your invitation…</p>
          <button class="button primary" type="submit">
            Continue
          </button>
        </form>
      </section>
    </Layout>
  );
}

/** Whom the invitation is for and the ways in: the organisation's providers, and a password where allowed. */
export function InviteAcceptPage(props: {
  email: string;
  expiresAt: Date;
  providers: { id: string; name: string }[];
  passwordAllowed: boolean;
  errorCode: string | null;
}) {
  return (
    <Layout title="Accept your invitation">
      <section class="card narrow">
        <h1>Accept your invitation</h1>
        <ErrorBanner code={props.errorCode} />
        <p>
          This invitation is for <strong>{props.email}</strong>. It works once, until{' '}
          <time dateTime={props.expiresAt.toISOString()}>{props.expiresAt.toUTCString().replace(' GMT', ' UTC')}</time>.
        </p>
        {props.providers.length > 0 ? (
          <ul class="providers">
            {props.providers.map((provider) => (
              <li key={provider.id}>
                <a class="button primary" href={`/auth/${provider.id}/login`}>
                  Continue with {provider.name}
                </a>
              </li>
            ))}
          </ul>
        ) : null}
        {props.passwordAllowed ? (
          <form method="post" action="/invite/password" class="password-sign-in">
            <h2>Or create an account with a password</h2>
            <label>
              Your name
              <input type="text" name="name" autocomplete="name" required maxlength={100} />
            </label>
            <label>
              Password
              <input type="password" name="password" autocomplete="new-password" required maxlength={1024} />
            </label>
            <button class="button" type="submit">
              Create account
            </button>
          </form>
        ) : null}
      </section>
    </Layout>
  );
}
