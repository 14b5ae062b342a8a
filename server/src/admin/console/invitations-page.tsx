/** @jsxRuntime automatic */
/** @jsxImportSource preact */

import type { InvitationView } from '../../invitations/index.js';
import { AdminFrame, type Notice, Time } from './frame.js';

/** A link the mail could not carry: shown once, right after the invitation was made. */
export interface UnsentLink {
  email: string;
  url: string;
}

/**
 * `/admin/invitations`: invite an address, see every invitation and its state, withdraw an open
 * one. When the mail did not go out, the link is shown here to copy (docs/invitations.md).
 */
export function InvitationsPage(props: { invitations: InvitationView[]; csrf: string; notice: Notice | null; unsent: UnsentLink | null }) {
  return (
    <AdminFrame title="Invitations" section="invitations" notice={props.notice}>
      <section class="card" aria-labelledby="invitations-heading">
        <h1 id="invitations-heading">Invitations</h1>
        <p class="muted">
          An invitation lets one person create an account, through single sign-on even when signup is closed or their domain is not allowed.
          The link works once.
        </p>
        {props.unsent ? (
          <div id="invitation-link" class="banner banner-info" role="status">
            <p>
              Not sent: mail is not available. Copy this link and pass it on to <strong>{props.unsent.email}</strong> yourself:
            </p>
            <p>
              <input class="copy-field" type="text" readonly value={props.unsent.url} aria-label="Invitation link" />
            </p>
          </div>
        ) : null}
        <form method="post" action="/admin/invitations" class="inline-form" id="invite-form">
          <input type="hidden" name="csrf" value={props.csrf} />
          <label>
            Email address
            <input type="email" name="email" required maxlength={320} autocomplete="off" />
          </label>
          <button class="button primary" type="submit">
            Invite
          </button>
        </form>
        {props.invitations.length === 0 ? (
          <p>No invitations yet.</p>
        ) : (
          <div class="table-scroll">
            <table id="invitations" class="sessions">
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">State</th>
                  <th scope="col">Mail</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.invitations.map((invitation) => (
                  <tr key={invitation.id} data-invitation-id={invitation.id} data-status={invitation.status}>
                    <td>{invitation.email}</td>
                    <td>
                      {invitation.status === 'accepted' && invitation.acceptedBy ? (
                        <a href={`/admin/users/${encodeURIComponent(invitation.acceptedBy)}`}>accepted</a>
                      ) : (
                        invitation.status
                      )}
                    </td>
                    <td>{invitation.mailed ? 'sent' : 'not sent'}</td>
                    <td>
                      <Time iso={invitation.createdAt} />
                    </td>
                    <td>
                      <Time iso={invitation.expiresAt} />
                    </td>
                    <td>
                      {invitation.status === 'pending' ? (
                        <form method="post" action={`/admin/invitations/${encodeURIComponent(invitation.id)}/revoke`}>
                          <input type="hidden" name="csrf" value={props.csrf} />
                          <button class="button danger" type="submit" aria-label={`Withdraw the invitation of ${invitation.email}`}>
                            Withdraw
                          </button>
                        </form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </AdminFrame>
  );
}
