/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ErrorBanner, Layout } from '../web/index.js';

/** The page a confirmation link opens; /assets/link.js moves the fragment's token into the form and sends it. */
export function ConfirmEmailPage({ errorCode }: { errorCode: string | null }) {
  return (
    <Layout title="Confirm your email address" script="/assets/link.js">
      <section class="card narrow">
        <h1>Confirm your email address</h1>
        {errorCode ? <ErrorBanner code={errorCode} /> : <p>Confirming…</p>}
        <form method="post" action="/confirm-email" data-link-form>
          <input type="hidden" name="token" value="" />
          <button class="button primary" type="submit">
            Confirm
          </button>
        </form>
      </section>
    </Layout>
  );
}
