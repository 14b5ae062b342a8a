// Server-rendered pages of the dev IdP. No JavaScript at all: plain forms, so a test or a
// person can drive them; everything interpolated is escaped.

const escapeHtml = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const layout = (title, body) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Development IdP</title>
<style>
body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem;color:#222}
label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1.5rem;padding:.5rem 1rem}.error{color:#a00}.hint{color:#666;font-size:.85rem}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;

/** The sign-in form of one interaction; `error` re-renders it after a failed attempt. */
export function loginPage({ uid, clientName, login = '', error, accounts }) {
  const hint = accounts.map((a) => `${escapeHtml(a.email)} / ${escapeHtml(a.password)} (${escapeHtml(a.groups.join(', '))})`).join('<br>');
  return layout(
    'Sign in',
    `<p>to continue to <strong>${escapeHtml(clientName)}</strong></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Email</label>
<input id="login" name="login" type="email" autocomplete="username" required autofocus value="${escapeHtml(login)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="submit" type="submit">Sign in</button>
</form>
<p><a id="cancel" href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>
<p class="hint">Development only. Demo accounts:<br>${hint}</p>`,
  );
}

/** oidc-provider `renderError`: the error and its description, nothing else. */
export async function renderError(ctx, out) {
  ctx.type = 'html';
  const rows = Object.entries(out).map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`);
  ctx.body = layout('Something went wrong', rows.join('\n'));
}

/** oidc-provider `rpInitiatedLogout.logoutSource`: `form` is its own hidden form (xsrf). */
export async function logoutSource(ctx, form) {
  ctx.body = layout(
    'Sign out',
    `${form}
<p>Sign out of the Development IdP?</p>
<button id="logout" type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button id="stay" type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

/** oidc-provider `rpInitiatedLogout.postLogoutSuccessSource` (no post_logout_redirect_uri). */
export async function postLogoutSuccessSource(ctx) {
  ctx.body = layout('Signed out', '<p>You are signed out of the Development IdP.</p>');
}
