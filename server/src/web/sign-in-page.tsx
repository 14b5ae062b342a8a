/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ERROR_CODES, isErrorCode } from '@gatehouse/shared';
import { Banner, Layout } from './layout.js';

export interface SignInPageProps {
  providers: { id: string; name: string }[];
  returnTo: string | null;
  errorCode: string | null;
}

/** The organisation's providers as buttons, and what went wrong last time in plain words. */
export function SignInPage({ providers, returnTo, errorCode }: SignInPageProps) {
  const query = returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : '';
  return (
    <Layout title="Sign in">
      <section class="card narrow">
        <h1>Sign in</h1>
        {errorCode && isErrorCode(errorCode) ? <Banner kind="error">{ERROR_CODES[errorCode].message}</Banner> : null}
        {providers.length === 0 ? (
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
      </section>
    </Layout>
  );
}
