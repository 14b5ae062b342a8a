/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import type { ComponentChildren } from 'preact';
import { Banner, Layout } from '../../web/index.js';

export type Section = 'users' | 'invitations' | 'audit' | 'keys';

const SECTIONS: { id: Section; href: string; label: string }[] = [
  { id: 'users', href: '/admin', label: 'Users' },
  { id: 'invitations', href: '/admin/invitations', label: 'Invitations' },
  { id: 'audit', href: '/admin/audit', label: 'Audit trail' },
  { id: 'keys', href: '/admin/keys', label: 'Signing keys' },
];

/** A banner to show at the top of a console page. */
export interface Notice {
  kind: 'error' | 'info';
  text: string;
}

/** The console's frame: the site layout, the console navigation, then the page's banner. */
export function AdminFrame(props: { title: string; section: Section; notice?: Notice | null; children: ComponentChildren }) {
  return (
    <Layout title={`${props.title} · Admin`} nav={{ admin: true, current: 'admin' }}>
      <nav class="admin-nav" aria-label="Admin console">
        <ul>
          {SECTIONS.map((section) => (
            <li key={section.id}>
              <a href={section.href} aria-current={section.id === props.section ? 'page' : undefined}>
                {section.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {props.notice ? (
        <div id="admin-notice" data-kind={props.notice.kind}>
          <Banner kind={props.notice.kind}>{props.notice.text}</Banner>
        </div>
      ) : null}
      {props.children}
    </Layout>
  );
}

/** A time as the console shows it (UTC, to the minute), machine-readable in the markup. */
export function Time(props: { iso: string | null; empty?: string }) {
  if (!props.iso) return <span class="muted">{props.empty ?? 'Never'}</span>;
  return <time dateTime={props.iso}>{`${props.iso.slice(0, 16).replace('T', ' ')} UTC`}</time>;
}

export function StatusBadge(props: { status: string }) {
  return <span class={`status status-${props.status}`}>{props.status}</span>;
}

/** The confirmation step every state change goes through: what will happen, then one POST form. */
export function ConfirmPage(props: {
  title: string;
  section: Section;
  question: string;
  facts: [string, string][];
  consequences: string[];
  action: string;
  fields: Record<string, string>;
  button: string;
  danger: boolean;
  cancelHref: string;
}) {
  return (
    <AdminFrame title={props.title} section={props.section}>
      <section class="card narrow" aria-labelledby="confirm-heading">
        <h1 id="confirm-heading">{props.question}</h1>
        {props.facts.length ? (
          <dl class="facts">
            {props.facts.map(([term, value]) => [<dt key={`t-${term}`}>{term}</dt>, <dd key={`d-${term}`}>{value}</dd>])}
          </dl>
        ) : null}
        <ul id="confirm-consequences" class="consequences">
          {props.consequences.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
        <form method="post" action={props.action} class="row">
          {Object.entries(props.fields).map(([name, value]) => (
            <input key={name} type="hidden" name={name} value={value} />
          ))}
          <button id="confirm-submit" type="submit" class={props.danger ? 'button danger' : 'button primary-inline'}>
            {props.button}
          </button>
          <a class="button" href={props.cancelHref}>
            Cancel
          </a>
        </form>
      </section>
    </AdminFrame>
  );
}
