/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { ERROR_CODES, isErrorCode } from '@gatehouse/shared';
import type { ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';

/**
 * The page frame. Every page is rendered on the server by Preact (auto-escaping, typed props)
 * with no inline script or style, so the strict CSP holds; the stylesheet follows the
 * system's light/dark preference.
 */
export function Layout(props: {
  title: string;
  children: ComponentChildren;
  head?: ComponentChildren;
  script?: string;
  /** Signed-in pages: links to the account page and, for admins, the console. */
  nav?: { admin: boolean; current?: 'account' | 'admin' };
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · Gatehouse`}</title>
        <link rel="stylesheet" href="/assets/app.css" />
        {props.head}
        {props.script ? <script src={props.script} defer /> : null}
      </head>
      <body>
        <header class="topbar">
          <a class="brand" href="/">
            Gatehouse
          </a>
          {props.nav ? (
            <nav class="topnav" aria-label="Main">
              <a href="/account" aria-current={props.nav.current === 'account' ? 'page' : undefined}>
                Your account
              </a>
              {props.nav.admin ? (
                <a href="/admin" aria-current={props.nav.current === 'admin' ? 'page' : undefined}>
                  Admin console
                </a>
              ) : null}
            </nav>
          ) : null}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}

export function renderPage(page: preact.VNode): string {
  return `<!doctype html>${renderToString(page)}`;
}

/** A stable error code from `?error=` as its plain-words sentence; nothing for an unknown code. */
export function ErrorBanner({ code }: { code: string | null }) {
  return code && isErrorCode(code) ? <Banner kind="error">{ERROR_CODES[code].message}</Banner> : null;
}

export function Banner(props: { kind: 'error' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`banner banner-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}
