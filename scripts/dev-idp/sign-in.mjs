// Test helper: a person signing in at the dev IdP, done with fetch and a small cookie jar.
// Redirects are followed by hand so the IdP's cookies stay on the IdP and the walk stops at
// the first redirect that leaves the IdP (the client's redirect_uri).

const decodeEntities = (s) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

/** The visible text of a page, short, for error messages. */
function textOf(html) {
  const alert = /role="alert">([^<]*)</.exec(html)?.[1];
  const text = alert ?? html.replace(/<head>[\s\S]*?<\/head>/, '').replace(/<[^>]+>/g, ' ');
  return decodeEntities(text).replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Cookies keyed by name and path, so a cleared cookie of an old interaction never hides a new one. */
class CookieJar {
  #cookies = new Map();

  store(setCookieHeaders) {
    for (const header of setCookieHeaders) {
      const [pair, ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (key) => attrs.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const path = attr('path') ?? '/';
      const expires = attr('expires');
      const maxAge = attr('max-age');
      const gone = value === '' || (expires && Date.parse(expires) <= Date.now()) || (maxAge && Number(maxAge) <= 0);
      if (gone) this.#cookies.delete(`${name};${path}`);
      else this.#cookies.set(`${name};${path}`, { name, value, path });
    }
  }

  headerFor(url) {
    const p = url.pathname;
    return [...this.#cookies.values()]
      .filter(({ path }) => p === path || p.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`)
      .join('; ');
  }
}

/**
 * Signs in at the dev IdP as `login`/`password`, starting from a full authorization request
 * URL, and returns the URL the IdP finally redirects to outside its own origin — normally
 * the client's redirect_uri with `code`, `state` and `iss` (or an OAuth `error`).
 * Consent is granted by the dev IdP itself. Throws when the password is refused or the IdP
 * answers with an error page.
 *
 * @param {string | URL} authorizationUrl
 * @param {{ login: string, password: string }} credentials
 * @returns {Promise<string>}
 */
export async function signInAtDevIdp(authorizationUrl, { login, password }) {
  let url = new URL(authorizationUrl);
  const idpOrigin = url.origin;
  const jar = new CookieJar();
  let form; // the POST body once the login form was found
  let posted = false;

  for (let step = 0; step < 15; step++) {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: jar.headerFor(url),
        ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: form,
    });
    jar.store(res.headers.getSetCookie());
    form = undefined;

    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url);
      if (url.origin !== idpOrigin) return url.href;
      continue;
    }

    const html = await res.text();
    if (posted && res.status === 401) {
      throw new Error(`dev IdP refused the sign-in of ${login}: ${textOf(html)}`);
    }
    const action = /<form[^>]*\baction="([^"]+)"/.exec(html)?.[1];
    if (res.status !== 200 || posted || !action || !/name="password"/.test(html)) {
      throw new Error(`dev IdP answered ${res.status} at ${url.pathname}, expected the sign-in form: ${textOf(html)}`);
    }
    url = new URL(decodeEntities(action), url);
    form = new URLSearchParams({ login, password }).toString();
    posted = true;
  }
  throw new Error('dev IdP: too many steps without leaving the IdP');
}
