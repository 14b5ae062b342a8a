/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { Banner, ErrorBanner, Layout } from './layout.js';

export interface SignInPageProps {
  providers: { id: string; name: string }[];
  returnTo: string | null;
  errorCode: string | null;
  /** A plain-words note after something went right (`?notice=`): signed out, password set. */
  notice?: string | null;
  /** The email and password form (LOCAL_LOGIN), rendered beside the SSO buttons. */
  passwordForm?: preact.VNode | null;
}

/** The organisation's providers as buttons, and what went wrong last time in plain words. */
const NOTICES: Record<string, string> = {
  'signed-out': 'You are signed out.',
  'password-set': 'Your new password is set. Sign in with it.',
};

export function SignInPage({ providers, returnTo, errorCode, notice, passwordForm }: SignInPageProps) {
  const query = returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : '';
  return (
    <Layout title="Sign in">
      <section class="card narrow">
        <h1>Sign in</h1>
        <ErrorBanner code={errorCode} />
        {notice && NOTICES[notice] ? <Banner kind="info">{NOTICES[notice]}</Banner> : null}
        {providers.length === 0 && !passwordForm ? (
          <p>No sign-in provider is configured yet. An administrator has to set OIDC_PROVIDERS.</p>
        ) : (
          <ul class="providers">
            {providers.map((provider) => (
              <li key={provider.id}>
                <a class="button primary" href={`/auth/${provider.id}/login${query}`}>
                  Continue with {provider.name}
                </a>
              </li>
            ))}
          </ul>
        )}
        {passwordForm ?? null}
      </section>
    </Layout>
  );
}
