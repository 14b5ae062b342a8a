/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { type AdminUserView, SESSION_KIND_LABELS, type SessionView } from '@gatehouse/shared';
import { ACTION_TEXT } from './actions.js';
import { readableAction } from './audit-page.js';
import { AdminFrame, type Notice, StatusBadge, Time } from './frame.js';
import type { UserAction } from './schemas.js';

export interface UserDetail {
  user: AdminUserView;
  identities: { provider: string; issuer: string; email: string | null; emailVerified: boolean; lastSignInAt: string }[];
  sessions: SessionView[];
  events: { time: string; action: string; outcome: string; actor: string; target: string | null }[];
}

/** `/admin/users/{id}`: who, how they sign in, where they are signed in, what happened; the actions. */
export function UserPage(props: {
  detail: UserDetail;
  actions: UserAction[];
  notice: Notice | null;
  /** Offered only when IMPERSONATION lets this admin view this person (docs/impersonation.md). */
  supportAccess?: { csrf: string } | null;
  /** Offered when the person may have a password (LOCAL_LOGIN) and has an email (docs/local-accounts.md). */
  passwordReset?: { csrf: string; unsentLink?: string } | null;
}) {
  const { user, identities, sessions, events } = props.detail;
  const base = `/admin/users/${encodeURIComponent(user.id)}`;
  const paired = sessions.filter((session) => session.kind === 'extension').length;
  return (
    <AdminFrame title={user.name} section="users" notice={props.notice}>
      <section class="card" aria-labelledby="user-heading">
        <h1 id="user-heading">{user.name}</h1>
        <dl class="facts">
          <dt>Email</dt>
          <dd>{user.email ?? 'none'}</dd>
          <dt>Status</dt>
          <dd id="user-status">
            <StatusBadge status={user.status} />
          </dd>
          <dt>Roles</dt>
          <dd id="user-roles">{user.roles.join(', ')}</dd>
          <dt>Created</dt>
          <dd>
            <Time iso={user.createdAt} />
          </dd>
          <dt>Last sign-in</dt>
          <dd>
            <Time iso={user.lastSignInAt} />
          </dd>
        </dl>
        <h2 id="actions-heading">Actions</h2>
        <p class="muted small">
          {props.actions.length === 0
            ? 'No action applies here: nobody acts on their own account or an owner’s, and only owners act on admins.'
            : 'Each action asks for confirmation first.'}
        </p>
        <ul class="actions" aria-labelledby="actions-heading">
          {props.actions.map((action) => (
            <li key={action}>
              <a class={ACTION_TEXT[action].danger ? 'button danger' : 'button'} href={`${base}/confirm?action=${action}`}>
                {ACTION_TEXT[action].button}
              </a>
            </li>
          ))}
        </ul>
      </section>
      {props.passwordReset ? (
        <section class="card" aria-labelledby="password-heading">
          <h2 id="password-heading">Password</h2>
          {props.passwordReset.unsentLink ? (
            <div class="banner banner-info" role="status" id="reset-link">
              <p>Not sent: mail is not available. Copy this single-use link (valid one hour) and pass it on yourself:</p>
              <input class="copy-field" type="text" readonly value={props.passwordReset.unsentLink} aria-label="Password reset link" />
            </div>
          ) : null}
          <p class="muted small">
            Removes {user.name}’s password and ends every session, API token and paired extension of the account at once; a single-use link
            to set a new password is mailed to {user.email ?? 'the account'}.
          </p>
          <form method="post" action={`${base}/password-reset`} id="password-reset-form">
            <input type="hidden" name="csrf" value={props.passwordReset.csrf} />
            <button class="button danger" type="submit">
              Reset password and end every session
            </button>
          </form>
        </section>
      ) : null}
      {props.supportAccess ? (
        <section class="card" aria-labelledby="support-heading">
          <h2 id="support-heading">Support view</h2>
          <p class="muted small">
            See {user.name}’s account as they see it, read-only, for at most 15 minutes. {user.name} sees it in their recent activity, with
            your reason.
          </p>
          <form method="post" action={`${base}/impersonate`} id="impersonate-form" class="stacked-form">
            <input type="hidden" name="csrf" value={props.supportAccess.csrf} />
            <label>
              Reason (required)
              <input type="text" name="reason" required minlength={3} maxlength={200} />
            </label>
            <label>
              For
              <select name="minutes">
                <option value="5">5 minutes</option>
                <option value="10">10 minutes</option>
                <option value="15" selected>
                  15 minutes
                </option>
              </select>
            </label>
            <button class="button" type="submit">
              Start a support view
            </button>
          </form>
        </section>
      ) : null}
      <section class="card" aria-labelledby="identities-heading">
        <h2 id="identities-heading">Identities</h2>
        {identities.length === 0 ? (
          <p class="muted">No identity: this account has never signed in through a provider.</p>
        ) : (
          <table class="sessions">
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Email at the provider</th>
                <th scope="col">Last sign-in</th>
              </tr>
            </thead>
            <tbody>
              {identities.map((identity) => (
                <tr key={`${identity.issuer}-${identity.provider}`}>
                  <td>
                    {identity.provider}
                    <div class="muted small">{identity.issuer}</div>
                  </td>
                  <td>
                    {identity.email ?? 'none'}
                    {identity.email ? <span class="muted small">{identity.emailVerified ? ' (verified)' : ' (not verified)'}</span> : null}
                  </td>
                  <td>
                    <Time iso={identity.lastSignInAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card" aria-labelledby="user-sessions-heading">
        <h2 id="user-sessions-heading">Sessions and paired devices</h2>
        <p class="muted small">
          {sessions.length} active, {paired} of them paired {paired === 1 ? 'extension' : 'extensions'}. Addresses are shown only to the
          account’s own user.
        </p>
        {sessions.length === 0 ? null : (
          <table id="user-sessions" class="sessions">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Kind</th>
                <th scope="col">Created</th>
                <th scope="col">Last seen</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((session) => (
                <tr key={session.id} data-kind={session.kind}>
                  <td>
                    {session.device}
                    {session.scopes ? <div class="muted small">{session.scopes.join(', ')}</div> : null}
                  </td>
                  <td>{SESSION_KIND_LABELS[session.kind]}</td>
                  <td>
                    <Time iso={session.createdAt} />
                  </td>
                  <td>
                    <Time iso={session.lastSeenAt} />
                  </td>
                  <td>
                    <Time iso={session.expiresAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card" aria-labelledby="events-heading">
        <div class="row">
          <h2 id="events-heading">Recent events</h2>
          <a href={`/admin/audit?target=${encodeURIComponent(`user:${user.id}`)}`}>All events about this account</a>
        </div>
        {events.length === 0 ? (
          <p class="muted">Nothing yet.</p>
        ) : (
          <ul class="activity">
            {events.map((event, index) => (
              <li key={`${event.time}-${index}`} data-action-name={event.action}>
                <Time iso={event.time} /> · {readableAction(event.action)}
                {event.outcome === 'success' ? '' : ` (${event.outcome})`} ·{' '}
                {event.actor === `user:${user.id}`
                  ? `by ${user.name}`
                  : event.actor.startsWith('user:')
                    ? 'by an administrator'
                    : `by ${event.actor}`}
              </li>
            ))}
          </ul>
        )}
      </section>
    </AdminFrame>
  );
}
