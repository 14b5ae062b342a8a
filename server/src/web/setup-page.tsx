/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { Banner, Layout } from './layout.js';

/** First run: name the owner's email; protected by the bootstrap password. */
export function SetupPage(props: { error: string | null; done: { email: string } | null }) {
  return (
    <Layout title="Set up Gatehouse">
      <section class="card narrow">
        <h1>Set up Gatehouse</h1>
        {props.done ? (
          <Banner kind="info">
            {props.done.email} is now the owner. Sign in with that address through your identity provider.{' '}
            <a href="/sign-in">Go to sign-in</a>
          </Banner>
        ) : (
          <>
            <p>Choose the owner account. The first sign-in with this verified email address becomes the owner.</p>
            {props.error ? <Banner kind="error">{props.error}</Banner> : null}
            <form method="post" action="/setup" class="stack">
              <label for="email">Owner email</label>
              <input id="email" name="email" type="email" required autocomplete="email" />
              <label for="name">Name (optional)</label>
              <input id="name" name="name" type="text" maxlength={100} autocomplete="name" />
              <label for="password">Bootstrap password (FIRST_RUN_PASSWORD)</label>
              <input id="password" name="password" type="password" required autocomplete="off" />
              <button type="submit" class="button primary">
                Make owner
              </button>
            </form>
          </>
        )}
      </section>
    </Layout>
  );
}
