import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { AuditLog } from '../audit/index.js';
import { loadConfig } from '../config/index.js';
import { systemClock } from '../context.js';
import { IpCipher } from '../crypto/index.js';
import { createLogger } from '../log/index.js';
import { connectMongo, createRedis, ensureIndexes, redisReady } from '../store/index.js';
import { runAuditCommand } from './audit.js';
import { runDoctor } from './doctor.js';
import { runInvitationsCommand } from './invitations.js';
import { runKeysCommand } from './keys.js';
import { runUsersCommand } from './users.js';

const USAGE = `usage: gatehouse <command>

  keys list                 the signing keys, newest first
  keys rotate               make a new active key; the previous one stays trusted until pruned
  keys prune                drop retired keys older than the longest token lifetime
  keys import <file>        bring an existing P-256 key (PKCS#8 PEM or private JWK) in as the active key
  users list [search]       users, optionally those whose email or name starts with <search>
  users show <user>         one user with identities, sessions and recent events (<user>: id or email)
  users disable <user>      stop the account everywhere at once (every session and token)
  users enable <user>       let a disabled account sign in again
  users ban <user>          like disable, and refuse the person's verified emails through any identity
  users unban <user>        lift a ban
  users revoke-all <user>   sign the account out everywhere (every token dies)
  users set-password <user> set an owner's local password, read from stdin (never from the command line)
  users reset-password <user> remove the password, end every session, print a single-use reset link
  invitations create <email> invite an address (mailed when SMTP_URL is set, else the link is printed)
  invitations list          invitations, newest first, with their state
  invitations revoke <id>   withdraw an invitation that has not been used
  audit seal                seal pending audit entries into the hash chain (servers do this every few seconds)
  audit verify              recompute the chain; exit 1 naming each modified, deleted, inserted or reordered entry
  audit export --since <ISO date> [--format jsonl|csv]
                            entries since the date, IPs still encrypted
  audit prune               delete sealed entries older than AUDIT_RETENTION_DAYS, keeping a checkpoint
  doctor                    check this deployment against the go-live checklist (docs/deployment.md); exit 1 on a failure

The environment is the server's (MONGODB_URL, REDIS_URL, MASTER_KEY, …).`;

/** The operator's command line: same configuration and stores as the server, actor `cli`. */
async function main(argv: string[]): Promise<number> {
  // `audit export` has options of its own: the audit area parses everything after `audit` itself.
  const auditArgs = argv[0] === 'audit' ? argv.slice(1) : null;
  const { positionals, values } = parseArgs({
    args: auditArgs ? argv.slice(0, 2) : argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return positionals.length === 0 && !values.help ? 64 : 0;
  }
  const config = loadConfig(process.env);
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const redis = createRedis(config.redis, { timeoutMs: config.REDIS_TIMEOUT_MS, keyPrefix: config.REDIS_KEY_PREFIX });
  redis.on('error', () => undefined);
  const { client, db } = await connectMongo(config.MONGODB_URL, config.MONGODB_TIMEOUT_MS);
  try {
    await ensureIndexes(db);
    await redisReady(redis, 2000).catch(() => log.warn('cli.redis_unavailable'));
    const deps = { config, log, db, redis, clock: systemClock, ipCipher: new IpCipher(config.masterKey) };
    const audit = new AuditLog(deps);
    const [area, ...rest] = positionals;
    let lines: string[];
    let code = 0;
    if (area === 'audit') ({ lines, code } = await runAuditCommand(deps, auditArgs ?? rest, (line) => process.stdout.write(`${line}\n`)));
    else if (area === 'keys') ({ lines } = await runKeysCommand(deps, audit, rest));
    else if (area === 'users' || area === 'invitations') {
      const app = await createApp(deps);
      try {
        ({ lines } = await (area === 'users' ? runUsersCommand : runInvitationsCommand)(app.services, rest));
      } finally {
        app.close();
      }
    } else if (area === 'doctor') {
      const app = await createApp(deps);
      try {
        const { keyring, setup } = app.services;
        ({ lines, code } = await runDoctor({ config, env: process.env, db, redis, keyring, setupComplete: () => setup.isComplete() }));
      } finally {
        app.close();
      }
    } else throw new Error(USAGE);
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
    return code;
  } finally {
    redis.disconnect();
    await client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
