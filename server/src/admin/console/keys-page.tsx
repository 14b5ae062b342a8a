/** @jsxRuntime automatic */
/** @jsxImportSource preact */

import type { KeyRow } from '../../tokens/index.js';
import { AdminFrame, type Notice, Time } from './frame.js';

/** `/admin/keys`: the signing keyring; owners rotate and prune (each confirmed). */
export function KeysPage(props: { staticMode: boolean; keys: KeyRow[]; isOwner: boolean; pruneCutoff: string; notice: Notice | null }) {
  return (
    <AdminFrame title="Signing keys" section="keys" notice={props.notice}>
      <section class="card" aria-labelledby="keys-heading">
        <h1 id="keys-heading">Signing keys</h1>
        {props.staticMode ? (
          <p id="keys-static">
            SECRET_KEY is set: one static key signs every token, so rotation and pruning are disabled. Remove SECRET_KEY to use the rotating
            keyring.
          </p>
        ) : (
          <>
            <p class="muted">
              The newest active key signs new tokens. Retired keys still verify tokens until they are pruned. A retired key can be pruned
              once no token signed with it can still be valid, that is when it was retired before <Time iso={props.pruneCutoff} />.
            </p>
            <table id="keys" class="sessions">
              <thead>
                <tr>
                  <th scope="col">Key id</th>
                  <th scope="col">Algorithm</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col">Retired</th>
                </tr>
              </thead>
              <tbody>
                {props.keys.map((key) => (
                  <tr key={key.kid} data-kid={key.kid} data-state={key.state}>
                    <td>
                      <code>{key.kid}</code>
                    </td>
                    <td>{key.alg}</td>
                    <td>
                      {key.state}
                      {key.prunable ? <span class="badge">can be pruned</span> : null}
                    </td>
                    <td>
                      <Time iso={key.createdAt} />
                    </td>
                    <td>
                      <Time iso={key.retiredAt} empty="—" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {props.isOwner ? (
              <ul class="actions">
                <li>
                  <a class="button" href="/admin/keys/confirm?action=rotate">
                    Rotate
                  </a>
                </li>
                <li>
                  <a class="button" href="/admin/keys/confirm?action=prune">
                    Prune retired keys
                  </a>
                </li>
              </ul>
            ) : (
              <p class="muted small">Only owners rotate and prune keys.</p>
            )}
          </>
        )}
      </section>
    </AdminFrame>
  );
}
