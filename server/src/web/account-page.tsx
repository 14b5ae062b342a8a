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
  identity: { provider: string; email: string | null } | null;
  sessions: SessionView[];
  csrfToken: string;
  scopes: string[];
  activity: ActivityEntry[];
}

/** Who you are, how you signed in, where you are signed in, and your API tokens. */
const NOTICES: Record<string, string> = { 'email-changed': 'Your email address is changed.' };

export function AccountPage({ user, identity, sessions, csrfToken, scopes, activity, emailEditable, notice }: AccountPageProps) {
  const paired = sessions.filter((session) => session.kind === 'extension');
  return (
    <Layout title="Your account" head={<meta name="csrf-token" content={csrfToken} />} script="/assets/account.js">
      <section class="card">
        <div class="row">
          <div>
            <h1>{user.name}</h1>
            <p class="muted">
              {user.email ?? 'No verified email'}
              {identity ? ` · signed in with ${identity.provider}` : ''}
            </p>
            <p class="muted">Roles: {user.roles.join(', ')}</p>
            {user.roles.includes('admin') || user.roles.includes('owner') ? (
              <p>
                <a href="/admin" id="admin-console-link">
                  Admin console
                </a>
              </p>
            ) : null}
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
            {sessions.map((session) => (
              <tr key={session.id} data-session-id={session.id}>
                <td>
                  {session.device}
                  {session.current ? <span class="badge">This session</span> : null}
                  {session.scopes ? <div class="muted small">{session.scopes.join(', ')}</div> : null}
                </td>
                <td>{SESSION_KIND_LABELS[session.kind]}</td>
                <td>{session.ip ?? 'Unknown'}</td>
                <td>
                  <time datetime={session.createdAt}>{formatTime(session.createdAt)}</time>
                </td>
                <td>
                  <time datetime={session.lastSeenAt}>{formatTime(session.lastSeenAt)}</time>
                </td>
                <td>
                  {session.current ? null : (
                    <button
                      type="button"
                      class="button"
                      data-action="revoke"
                      data-session-id={session.id}
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
                {entry.device ? <span class="muted"> · {entry.device}</span> : null}
                {entry.ip ? <span class="muted"> · {entry.ip}</span> : null}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card" aria-labelledby="tokens-heading">
        <h2 id="tokens-heading">Create an API token</h2>
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
        <div hidden>
          <p>Your new token (shown once):</p>
          <code id="api-token-value" class="token" />
        </div>
      </section>
    </Layout>
  );
}

function formatTime(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}
