/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import type { AdminUserView } from '@gatehouse/shared';
import { AdminFrame, StatusBadge, Time } from './frame.js';

export interface UsersFilter {
  q?: string | undefined;
  status?: string | undefined;
  role?: string | undefined;
  limit: number;
}

/** `/admin`: search by email or name prefix, filter by status and role, a page at a time. */
export function UsersPage(props: {
  filter: UsersFilter;
  users: AdminUserView[];
  next: string | null;
  prev: string | null;
  paged: boolean;
}) {
  const { filter } = props;
  const keep = (extra: Record<string, string>) => {
    const params = new URLSearchParams();
    if (filter.q) params.set('q', filter.q);
    if (filter.status) params.set('status', filter.status);
    if (filter.role) params.set('role', filter.role);
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    const text = params.toString();
    return `/admin${text ? `?${text}` : ''}`;
  };
  return (
    <AdminFrame title="Users" section="users">
      <section class="card" aria-labelledby="users-heading">
        <h1 id="users-heading">Users</h1>
        <form method="get" action="/admin" class="filters" aria-label="Search users">
          <div>
            <label for="users-q">Email or name starts with</label>
            <input id="users-q" name="q" value={filter.q ?? ''} maxLength={100} />
          </div>
          <div>
            <label for="users-status">Status</label>
            <select id="users-status" name="status">
              <Option value="" current={filter.status} label="Any" />
              <Option value="active" current={filter.status} label="Active" />
              <Option value="disabled" current={filter.status} label="Disabled" />
              <Option value="banned" current={filter.status} label="Banned" />
            </select>
          </div>
          <div>
            <label for="users-role">Role</label>
            <select id="users-role" name="role">
              <Option value="" current={filter.role} label="Any" />
              <Option value="user" current={filter.role} label="User" />
              <Option value="admin" current={filter.role} label="Admin" />
              <Option value="owner" current={filter.role} label="Owner" />
            </select>
          </div>
          <button type="submit" class="button">
            Search
          </button>
        </form>
        {props.users.length === 0 ? (
          <p class="muted">No account matches.</p>
        ) : (
          <table id="users" class="sessions">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Status</th>
                <th scope="col">Roles</th>
                <th scope="col">Last sign-in</th>
              </tr>
            </thead>
            <tbody>
              {props.users.map((user) => (
                <tr key={user.id} data-user-id={user.id}>
                  <td>
                    <a href={`/admin/users/${encodeURIComponent(user.id)}`}>{user.name}</a>
                  </td>
                  <td>{user.email ?? <span class="muted">none</span>}</td>
                  <td>
                    <StatusBadge status={user.status} />
                  </td>
                  <td>{user.roles.join(', ')}</td>
                  <td>
                    <Time iso={user.lastSignInAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <nav class="pager" aria-label="Pages">
          {props.paged ? <a href={keep({})}>First page</a> : null}
          {props.prev ? (
            <a id="users-prev" rel="prev" href={keep({ before: props.prev })}>
              Previous page
            </a>
          ) : null}
          {props.next ? (
            <a id="users-next" rel="next" href={keep({ cursor: props.next })}>
              Next page
            </a>
          ) : null}
        </nav>
      </section>
    </AdminFrame>
  );
}

export function Option(props: { value: string; current: string | undefined; label: string }) {
  return (
    <option value={props.value} selected={(props.current ?? '') === props.value}>
      {props.label}
    </option>
  );
}
