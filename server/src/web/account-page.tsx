/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { type ActivityEntry, SESSION_KIND_LABELS, type SessionView } from '@gatehouse/shared';
import { Layout } from './layout.js';

export interface AccountPageProps {
  user: { name: string; email: string | null; roles: string[]; pendingEmail?: string | undefined };
  /** Local accounts (no SSO identity) may change their email; a provider's address is read-only. */
  emailEditable: boolean;
  /** A plain-words note after something went right (`?notice=`). */
  notice?: string | null;
  /** Password and two-factor state, when LOCAL_LOGIN lets this account have a password (docs/local-accounts.md). */
  local?: { password: boolean; totp: boolean; recoveryCodesLeft: number } | null;
  identity: { provider: string; email: string | null } | null;
  sessions: SessionView[];
  csrfToken: string;
  scopes: string[];
  activity: ActivityEntry[];
}

/** Who you are, how you signed in, where you are signed in, and your API tokens. */
const NOTICES: Record<string, string> = { 'email-changed': 'Your email address is changed.' };

export function AccountPage({ user, identity, sessions, csrfToken, scopes, activity, emailEditable, notice, local }: AccountPageProps) {
  const paired = sessions.filter((session) => session.kind === 'extension');
  // API tokens are listed and revoked apart from the sessions of browsers and devices.
  const tokens = sessions.filter((session) => session.kind === 'api');
  const signedIn = sessions.filter((session) => session.kind !== 'api');
  return (
    <Layout
      title="Your account"
      head={<meta name="csrf-token" content={csrfToken} />}
      script="/assets/account.js"
      nav={{ admin: user.roles.includes('admin') || user.roles.includes('owner'), current: 'account' }}
    >
      <section class="card">
        <div class="row">
          <div>
            <h1>{user.name}</h1>
            <p class="muted">
              {user.email ?? 'No verified email'}
              {identity ? ` · signed in with ${identity.provider}` : ''}
            </p>
            <p class="muted">Roles: {user.roles.join(', ')}</p>
          </div>
          <form method="post" action="/auth/logout">
            <input type="hidden" name="csrf" value={csrfToken} />
            <button type="submit" class="button">
              Sign out
            </button>
          </form>
        </div>
      </section>
      {notice && NOTICES[notice] ? (
        <div class="banner banner-info" role="status">
          {NOTICES[notice]}
        </div>
      ) : null}
      <div id="account-status" hidden role="status" aria-live="polite" />
      <section class="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading">Profile</h2>
        <form id="profile-form" class="stacked-form" data-name={user.name} data-email={user.email ?? ''}>
          <label>
            Display name
            <input type="text" name="name" value={user.name} required maxlength={100} autocomplete="name" />
          </label>
          {emailEditable ? (
            <label>
              Email
              <input type="email" name="email" value={user.email ?? ''} maxlength={320} autocomplete="email" />
              <span class="muted small">A new address takes effect when you follow the link we mail to it.</span>
            </label>
          ) : (
            <p class="muted small">Your email address comes from your sign-in provider; change it there.</p>
          )}
          {user.pendingEmail ? (
            <p id="pending-email" class="muted small">
              Waiting for confirmation: {user.pendingEmail}
            </p>
          ) : null}
          <button class="button" type="submit">
            Save profile
          </button>
        </form>
      </section>
      {local ? <LocalSecurity local={local} /> : null}
      <section class="card" aria-labelledby="sessions-heading">
        <div class="row">
          <h2 id="sessions-heading">Sessions</h2>
          <button type="button" class="button" data-action="revoke-others">
            Sign out everywhere else
          </button>
        </div>
        <table class="sessions">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Kind</th>
              <th scope="col">Where</th>
              <th scope="col">Created</th>
              <th scope="col">Last seen</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {signedIn.map((session) => (
              <tr key={session.id} data-session-id={session.id}>
                <td>
                  {session.device}
                  {session.current ? <span class="badge">This session</span> : null}
                  {session.scopes ? <div class="muted small">{session.scopes.join(', ')}</div> : null}
                </td>
                <td data-label="Kind">{SESSION_KIND_LABELS[session.kind]}</td>
                <td data-label="Where">{session.ip ?? 'Unknown'}</td>
                <td data-label="Created">
                  <time datetime={session.createdAt}>{formatTime(session.createdAt)}</time>
                </td>
                <td data-label="Last seen">
                  <time datetime={session.lastSeenAt}>{formatTime(session.lastSeenAt)}</time>
                </td>
                <td>
                  {session.current ? null : (
                    <button
                      type="button"
                      class="button"
                      data-action="revoke"
                      data-session-id={session.id}
                      data-device={`${session.device} (${SESSION_KIND_LABELS[session.kind].toLowerCase()})`}
                      aria-label={`Revoke ${session.device}`}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card" aria-labelledby="paired-heading">
        <div class="row">
          <h2 id="paired-heading">Paired extensions and devices</h2>
          <a class="button" href="/pair">
            Pair a device
          </a>
        </div>
        {paired.length === 0 ? (
          <p class="muted">Nothing is paired. Install the Gatehouse extension and choose “Pair this browser”.</p>
        ) : (
          <p class="muted">
            {paired.length === 1 ? 'One device is' : `${paired.length} devices are`} paired:{' '}
            {paired.map((session) => session.device).join(', ')}. Revoke one in the sessions list above to disconnect it.
          </p>
        )}
      </section>
      <section class="card" aria-labelledby="activity-heading">
        <h2 id="activity-heading">Recent security activity</h2>
        {activity.length === 0 ? (
          <p class="muted">Nothing yet.</p>
        ) : (
          <ul id="activity" class="activity">
            {activity.map((entry) => (
              <li key={`${entry.time}-${entry.action}`} data-action-name={entry.action}>
                <time datetime={entry.time}>{formatTime(entry.time)}</time> · {entry.description}
                {entry.device ? <span class="muted"> · from {entry.device}</span> : null}
                {entry.ip ? <span class="muted"> · {entry.ip}</span> : null}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card" aria-labelledby="tokens-heading">
        <h2 id="tokens-heading">API tokens</h2>
        {tokens.length === 0 ? (
          <p class="muted">No API token yet.</p>
        ) : (
          <table class="sessions" id="api-tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((token) => (
                <tr key={token.id} data-session-id={token.id}>
                  <td>{token.device}</td>
                  <td data-label="Scopes">{(token.scopes ?? []).join(', ')}</td>
                  <td data-label="Created">
                    <time datetime={token.createdAt}>{formatTime(token.createdAt)}</time>
                  </td>
                  <td data-label="Expires">
                    <time datetime={token.expiresAt}>{formatTime(token.expiresAt)}</time>
                  </td>
                  <td data-label="Last used">
                    <time datetime={token.lastSeenAt}>{formatTime(token.lastSeenAt)}</time>
                  </td>
                  <td>
                    <button
                      type="button"
                      class="button"
                      data-action="revoke"
                      data-session-id={token.id}
                      data-device={`the API token “${token.device}”`}
                      aria-label={`Revoke the API token ${token.device}`}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h3>Create an API token</h3>
        <form id="api-token-form" class="stack">
          <label for="token-name">Name</label>
          <input id="token-name" name="name" required maxlength={60} />
          <fieldset>
            <legend>Scopes</legend>
            {scopes.map((scope) => (
              <label key={scope} class="inline">
                <input type="checkbox" name="scopes" value={scope} /> {scope}
              </label>
            ))}
          </fieldset>
          <label for="token-days">Expires in (days)</label>
          <input id="token-days" name="expiresInDays" type="number" min={1} max={3650} value="30" required />
          <button type="submit" class="button primary">
            Create token
          </button>
        </form>
        <div hidden id="api-token-output">
          <p>Your new token (shown once):</p>
          <code id="api-token-value" class="token" />
          <button type="button" class="button" data-action="copy-token">
            Copy
          </button>
        </div>
      </section>
    </Layout>
  );
}

function formatTime(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** The account's password and two-factor settings; the forms are sent by account.js to the JSON API. */
function LocalSecurity({ local }: { local: { password: boolean; totp: boolean; recoveryCodesLeft: number } }) {
  return (
    <section class="card" aria-labelledby="security-heading">
      <h2 id="security-heading">Password and two-factor authentication</h2>
      {local.password ? (
        <form id="password-change-form" class="stacked-form">
          <label>
            Current password
            <input type="password" name="currentPassword" autocomplete="current-password" required maxlength={1024} />
          </label>
          <label>
            New password
            <input type="password" name="newPassword" autocomplete="new-password" required maxlength={1024} />
          </label>
          <p class="muted small">Changing it signs out every other session, API token and paired extension of your account.</p>
          <button class="button" type="submit">
            Change password
          </button>
        </form>
      ) : (
        <form id="password-set-form" class="stacked-form">
          <label>
            New password
            <input type="password" name="password" autocomplete="new-password" required maxlength={1024} />
          </label>
          <p class="muted small">You can set a password within 10 minutes of signing in; after that, sign in again first.</p>
          <button class="button" type="submit">
            Set password
          </button>
        </form>
      )}
      {local.totp ? (
        <>
          <p id="totp-state">
            Two-factor authentication is on. {local.recoveryCodesLeft} recovery code{local.recoveryCodesLeft === 1 ? '' : 's'} left.
          </p>
          <form id="totp-disable-form" class="stacked-form">
            <label>
              Password
              <input type="password" name="password" autocomplete="current-password" required maxlength={1024} />
            </label>
            <label>
              Code from your authenticator app
              <input name="code" autocomplete="one-time-code" inputmode="numeric" required maxlength={32} />
            </label>
            <button class="button danger" type="submit">
              Turn off two-factor authentication
            </button>
          </form>
        </>
      ) : local.password ? (
        <>
          <p id="totp-state">Two-factor authentication is off.</p>
          <button class="button" type="button" data-action="totp-setup">
            Turn on two-factor authentication
          </button>
          <div id="totp-enrol" hidden>
            <p>Scan this code with an authenticator app, or type the key, then confirm with a code and your password.</p>
            <img id="totp-qr" class="qr" width="220" height="220" alt="QR code of the two-factor key" />
            <p>
              Key: <code id="totp-secret" />
            </p>
            <form id="totp-enable-form" class="stacked-form">
              <label>
                Password
                <input type="password" name="password" autocomplete="current-password" required maxlength={1024} />
              </label>
              <label>
                Code from your authenticator app
                <input name="code" autocomplete="one-time-code" inputmode="numeric" required maxlength={32} />
              </label>
              <button class="button primary" type="submit">
                Turn on
              </button>
            </form>
          </div>
          <div id="recovery-codes" hidden>
            <p>Save your recovery codes. Each signs you in once if you lose your authenticator; they will not be shown again.</p>
            <ul id="recovery-code-list" class="recovery-codes" />
          </div>
        </>
      ) : null}
    </section>
  );
}
