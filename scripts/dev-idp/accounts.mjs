// The dev IdP's people. Subjects are fixed opaque strings so a user keeps the same
// (iss, sub) identity across restarts of the dev IdP, like with a real provider.

/**
 * The demo accounts (development only; the passwords are public).
 * @type {ReadonlyArray<{ sub: string, email: string, email_verified: boolean, name: string, groups: string[], password: string }>}
 */
export const DEMO_ACCOUNTS = Object.freeze([
  {
    sub: 'f1c3a7e2-5b0d-4c8e-9a61-2d7f4b9e0a11',
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Admin',
    groups: ['admins'],
    password: 'alice-password',
  },
  {
    sub: '8b2e6d40-93f1-4a57-b0c2-6e1d5f8a7c32',
    email: 'bob@example.com',
    email_verified: true,
    name: 'Bob User',
    groups: ['staff'],
    password: 'bob-password',
  },
]);

/** oidc-provider's `findAccount` over a list of accounts; claims exclude the password. */
export function accountFinder(accounts) {
  return async (_ctx, sub) => {
    const account = accounts.find((a) => a.sub === sub);
    if (!account) return undefined;
    const { password: _secret, ...claims } = account;
    // oidc-provider filters these by the granted scopes (email, profile, groups).
    return { accountId: sub, claims: async () => structuredClone(claims) };
  };
}

/** The account whose email matches `login` (case-insensitive) and whose password is `password`. */
export function checkPassword(accounts, login, password) {
  const account = accounts.find((a) => a.email.toLowerCase() === String(login).trim().toLowerCase());
  return account && account.password === password ? account : undefined;
}
