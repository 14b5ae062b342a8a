/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from '@gatehouse/shared';
import type { AuditView } from '../../audit/index.js';
import { AdminFrame, Time } from './frame.js';
import { Option } from './users-page.js';

/** The filters as typed, to refill the form and to carry into the next page's link. */
export type AuditFilterText = Partial<Record<'action' | 'outcome' | 'actor' | 'target' | 'since' | 'until', string>>;

/** Names and emails of the people an entry mentions, by user id. */
export type People = ReadonlyMap<string, { name: string; email: string | null }>;

/** `login.succeeded` → "Login succeeded", `session.revoked_all` → "Session revoked all". */
export function readableAction(action: string): string {
  const words = action.replace('.', ' ').replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const PARTIES: Record<string, string> = { cli: 'Command line', anonymous: 'Anonymous', system: 'Gatehouse' };

/** An actor or target: a person by name and email, linked to their page; anything else in words. */
function Party({ value, people }: { value: string | null | undefined; people: People }) {
  if (!value) return null;
  const [kind, id = ''] = value.split(/:(.*)/s) as [string, string?];
  const person = kind === 'user' ? people.get(id) : undefined;
  if (person) {
    return (
      <>
        <a href={`/admin/users/${encodeURIComponent(id)}`}>{person.name}</a>
        {person.email ? <span class="muted small block">{person.email}</span> : null}
      </>
    );
  }
  if (PARTIES[value]) return <>{PARTIES[value]}</>;
  if (kind === 'user') return <span class="muted">a deleted account</span>;
  return (
    <>
      {kind} <code class="small">{id}</code>
    </>
  );
}

/** `/admin/audit`: the trail, newest first, with exact filters and the export links. */
export function AuditPage(props: {
  filter: AuditFilterText;
  entries: AuditView[];
  next: string | null;
  prev: string | null;
  paged: boolean;
  people: People;
}) {
  const { filter } = props;
  const link = (path: string, extra: Record<string, string>, keys = Object.keys(filter)) => {
    const params = new URLSearchParams();
    for (const key of keys) {
      const value = filter[key as keyof AuditFilterText];
      if (value) params.set(key, value);
    }
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    return `${path}?${params.toString()}`;
  };
  return (
    <AdminFrame title="Audit trail" section="audit">
      <section class="card" aria-labelledby="audit-heading">
        <h1 id="audit-heading">Audit trail</h1>
        <form method="get" action="/admin/audit" class="filters" aria-label="Filter the audit trail">
          <div>
            <label for="audit-action">Action</label>
            <select id="audit-action" name="action">
              <Option value="" current={filter.action} label="Any" />
              {AUDIT_ACTIONS.map((action) => (
                <Option key={action} value={action} current={filter.action} label={readableAction(action)} />
              ))}
            </select>
          </div>
          <div>
            <label for="audit-outcome">Outcome</label>
            <select id="audit-outcome" name="outcome">
              <Option value="" current={filter.outcome} label="Any" />
              {AUDIT_OUTCOMES.map((outcome) => (
                <Option key={outcome} value={outcome} current={filter.outcome} label={outcome} />
              ))}
            </select>
          </div>
          <div>
            <label for="audit-actor">Actor</label>
            <input id="audit-actor" name="actor" value={filter.actor ?? ''} placeholder="user:… or cli" maxLength={100} />
          </div>
          <div>
            <label for="audit-target">Target</label>
            <input id="audit-target" name="target" value={filter.target ?? ''} placeholder="user:… or key:…" maxLength={100} />
          </div>
          <div>
            <label for="audit-since">Since (UTC)</label>
            <input id="audit-since" name="since" type="date" value={filter.since ?? ''} />
          </div>
          <div>
            <label for="audit-until">Until (UTC, inclusive)</label>
            <input id="audit-until" name="until" type="date" value={filter.until ?? ''} />
          </div>
          <button type="submit" class="button">
            Filter
          </button>
        </form>
        <p class="muted small">
          Export every entry {filter.since ? `since ${filter.since}` : 'kept'} (the other filters do not apply; addresses stay encrypted):{' '}
          <a id="export-jsonl" href={link('/admin/audit/export', { format: 'jsonl' }, ['since'])} download>
            JSON Lines
          </a>{' '}
          ·{' '}
          <a id="export-csv" href={link('/admin/audit/export', { format: 'csv' }, ['since'])} download>
            CSV
          </a>
        </p>
        {props.entries.length === 0 ? (
          <p class="muted">No entry matches.</p>
        ) : (
          <table id="audit-entries" class="sessions">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {props.entries.map((entry) => (
                <tr key={entry.id} data-action-name={entry.action}>
                  <td>
                    <Time iso={entry.time} />
                  </td>
                  <td class="words" title={entry.action}>
                    {readableAction(entry.action)}
                  </td>
                  <td>{entry.outcome}</td>
                  <td>
                    <Party value={entry.actor} people={props.people} />
                  </td>
                  <td>
                    <Party value={entry.target} people={props.people} />
                  </td>
                  <td class="small">
                    {Object.entries(entry.details).map(([key, value]) => (
                      <span key={key} class="block">
                        {key}: {Array.isArray(value) ? value.join(', ') : String(value)}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <nav class="pager" aria-label="Pages">
          {props.paged ? <a href={link('/admin/audit', {})}>Newest</a> : null}
          {props.prev ? (
            <a id="audit-prev" rel="prev" href={link('/admin/audit', { before: props.prev })}>
              Newer entries
            </a>
          ) : null}
          {props.next ? (
            <a id="audit-next" rel="next" href={link('/admin/audit', { cursor: props.next })}>
              Older entries
            </a>
          ) : null}
        </nav>
      </section>
    </AdminFrame>
  );
}
