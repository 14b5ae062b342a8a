// The account page's only script. Every state-changing call goes through `api`, which sends
// the session's CSRF token (from <meta name="csrf-token">) as X-CSRF-Token; the browser adds
// Origin. Buttons carry what to call in data- attributes; nothing here builds HTML from data.
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrfToken, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    // Field errors say what is wrong ("At most 365 days."); the title is the general sentence.
    const fields = Array.isArray(data?.errors) ? data.errors.map((issue) => issue.message).join(' ') : '';
    throw new Error(fields || data?.title || `The request failed (${response.status}).`);
  }
  return data;
}

function say(message, kind) {
  const status = document.getElementById('account-status');
  if (!status) return;
  status.textContent = message;
  status.className = `banner banner-${kind}`;
  status.hidden = false;
}

document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
  if (!button) return;
  event.preventDefault();
  // Revoking says first what stops working (issue 13); declining changes nothing.
  const questions = {
    revoke: () => `Revoke ${button.dataset.device ?? 'this session'}? It stops working at its next request.`,
    'revoke-others': () =>
      'Sign out every other browser, paired extension and API token of your account? Each stops working at its next request; you stay signed in here.',
  };
  const question = questions[button.dataset.action];
  if (question && !window.confirm(question())) return;
  button.disabled = true;
  try {
    if (button.dataset.action === 'revoke') {
      await api('DELETE', `/api/v1/me/sessions/${encodeURIComponent(button.dataset.sessionId ?? '')}`);
      button.closest('tr')?.remove();
      say('Session revoked.', 'info');
    } else if (button.dataset.action === 'totp-setup') {
      // A new secret to enrol: shown as a QR code (an SVG as an image, never as markup) and as text.
      const offer = await api('POST', '/api/v1/me/totp/setup');
      const qr = document.getElementById('totp-qr');
      if (qr) qr.src = `data:image/svg+xml;base64,${btoa(offer.qrSvg)}`;
      const secret = document.getElementById('totp-secret');
      if (secret) secret.textContent = offer.secret;
      document.getElementById('totp-enrol')?.removeAttribute('hidden');
      button.hidden = true;
    } else if (button.dataset.action === 'copy-token') {
      await navigator.clipboard.writeText(document.getElementById('api-token-value')?.textContent ?? '');
      say('Token copied.', 'info');
    } else if (button.dataset.action === 'revoke-others') {
      const result = await api('POST', '/api/v1/me/sessions/revoke-others');
      say(`Signed out of ${result.revoked} other session(s).`, 'info');
      window.setTimeout(() => window.location.reload(), 800);
    }
  } catch (error) {
    say(error.message, 'error');
  } finally {
    button.disabled = false;
  }
});

document.getElementById('api-token-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  try {
    const created = await api('POST', '/api/v1/me/api-tokens', {
      name: String(data.get('name') ?? ''),
      scopes: data.getAll('scopes').map(String),
      expiresInDays: Number(data.get('expiresInDays')),
    });
    const output = document.getElementById('api-token-value');
    if (output) {
      output.textContent = created.token;
      output.closest('[hidden]')?.removeAttribute('hidden');
    }
    say('Token created. Copy it now: it is shown only once.', 'info');
    form.reset();
  } catch (error) {
    say(error.message, 'error');
  }
});

// Only the fields that changed are sent: `{}` changes nothing (docs/profile.md).
document.getElementById('profile-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  const patch = {};
  const name = String(data.get('name') ?? '').trim();
  if (name !== form.dataset.name) patch.name = name;
  if (data.has('email')) {
    const email = String(data.get('email') ?? '').trim();
    if (email && email !== form.dataset.email) patch.email = email;
  }
  if (Object.keys(patch).length === 0) return say('Nothing to save: nothing changed.', 'info');
  try {
    const profile = await api('PATCH', '/api/v1/me', patch);
    form.dataset.name = profile.name;
    say(
      patch.email
        ? `Saved. We mailed a confirmation link to ${profile.pendingEmail}; your address changes when you follow it.`
        : 'Profile saved.',
      'info',
    );
  } catch (error) {
    say(error.message, 'error');
  }
});

/** Sends a form's fields as JSON to `path`; `done` says what happened. */
function jsonForm(id, path, done) {
  document.getElementById(id)?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = Object.fromEntries(new FormData(form).entries());
    try {
      const answer = await api('POST', path, body);
      form.reset();
      done(answer);
    } catch (error) {
      say(error.message, 'error');
    }
  });
}

// A new password changes the session (and its CSRF token): the page is loaded again.
jsonForm('password-change-form', '/api/v1/me/password', () => {
  say('Password changed. Every other session, token and paired extension is signed out.', 'info');
  window.setTimeout(() => window.location.reload(), 1200);
});
jsonForm('password-set-form', '/api/v1/me/password/set', () => {
  say('Password set.', 'info');
  window.setTimeout(() => window.location.reload(), 1200);
});
jsonForm('totp-enable-form', '/api/v1/me/totp/enable', (answer) => {
  const list = document.getElementById('recovery-code-list');
  for (const code of answer?.recoveryCodes ?? []) {
    const item = document.createElement('li');
    const text = document.createElement('code');
    text.textContent = code;
    item.append(text);
    list?.append(item);
  }
  document.getElementById('totp-enrol')?.setAttribute('hidden', '');
  document.getElementById('recovery-codes')?.removeAttribute('hidden');
  say('Two-factor authentication is on. Save your recovery codes now.', 'info');
});
jsonForm('totp-disable-form', '/api/v1/me/totp/disable', () => {
  say('Two-factor authentication is off.', 'info');
  window.setTimeout(() => window.location.reload(), 1200);
});
