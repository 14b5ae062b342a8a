import type { SessionView } from '@gatehouse/shared';
import { Layout } from './layout.js';

export interface AccountPageProps {
  user: { name: string; email: string | null; roles: string[] };
  identity: { provider: string; email: string | null } | null;
  sessions: SessionView[];
  csrfToken: string;
}

const KIND_LABEL = { browser: 'Browser', extension: 'Extension', api: 'API token' } as const;

/** Who you are, how you signed in, and where you are signed in. */
export function AccountPage({ user, identity, sessions, csrfToken }: AccountPageProps) {
  return (
    <Layout title="Your account">
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
      <section class="card" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions</h2>
        <table class="sessions">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Kind</th>
              <th scope="col">Where</th>
              <th scope="col">Created</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((session) => (
              <tr key={session.id} data-session-id={session.id}>
                <td>
                  {session.device}
                  {session.current ? <span class="badge">This session</span> : null}
                </td>
                <td>{KIND_LABEL[session.kind]}</td>
                <td>{session.ip ?? 'Unknown'}</td>
                <td>
                  <time datetime={session.createdAt}>{formatTime(session.createdAt)}</time>
                </td>
                <td>
                  <time datetime={session.lastSeenAt}>{formatTime(session.lastSeenAt)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>
  );
}

function formatTime(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}
