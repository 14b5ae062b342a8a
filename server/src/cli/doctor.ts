import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { deriveChainKey, verifyChain } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { Keyring } from '../tokens/index.js';

/** One line of `gatehouse doctor`: what was checked and what is wrong, if anything. */
export interface Finding {
  status: 'ok' | 'warn' | 'fail';
  check: string;
  detail: string;
}

export interface DoctorDeps {
  config: Config;
  env: NodeJS.ProcessEnv;
  db: Db;
  redis: Redis;
  keyring: Keyring;
  setupComplete: () => Promise<boolean>;
  /** Fetches PUBLIC_URL/healthz; injectable so a test can point it at a local TLS server. */
  fetchPublic?: (url: string) => Promise<Response>;
}

const ok = (check: string, detail: string): Finding => ({ status: 'ok', check, detail });
const warn = (check: string, detail: string): Finding => ({ status: 'warn', check, detail });
const fail = (check: string, detail: string): Finding => ({ status: 'fail', check, detail });

/**
 * `gatehouse doctor`: the pre-production checklist of docs/deployment.md, checked against this
 * deployment's configuration and its running services. Each check says what is wrong in words
 * an operator can act on; nothing here prints a secret.
 */
export async function runDoctor(deps: DoctorDeps): Promise<{ lines: string[]; code: number }> {
  const findings = [
    ...checkConfiguration(deps.config, deps.env),
    await checkPublicUrl(deps),
    await checkMongo(deps),
    await checkRedis(deps),
    await checkKeyring(deps.keyring),
    await checkSetup(deps),
    await checkAudit(deps),
  ];
  const width = Math.max(...findings.map((finding) => finding.check.length));
  const lines = findings.map((finding) => `${finding.status.padEnd(4)}  ${finding.check.padEnd(width)}  ${finding.detail}`);
  const failed = findings.filter((finding) => finding.status === 'fail').length;
  const warned = findings.filter((finding) => finding.status === 'warn').length;
  lines.push(`${findings.length} checks: ${failed} failed, ${warned} warnings`);
  return { lines, code: failed > 0 ? 1 : 0 };
}

function checkConfiguration(config: Config, env: NodeJS.ProcessEnv): Finding[] {
  const production = config.NODE_ENV === 'production';
  const findings = [
    production
      ? ok('NODE_ENV', 'production: unsafe values are refused at start')
      : fail('NODE_ENV', `is ${config.NODE_ENV}: the production checks (https, secrets, CORS, providers) only warn`),
    config.publicUrl.protocol === 'https:' ? ok('PUBLIC_URL', `${config.publicOrigin} is https`) : fail('PUBLIC_URL', 'must be https'),
    config.secretKey
      ? warn('SECRET_KEY', 'one static HS256 key signs every token: no rotation and no JWKS; unset it to use the keyring')
      : ok('signing keys', 'the rotating keyring signs (no SECRET_KEY)'),
    env.FIRST_RUN_PASSWORD === undefined
      ? ok('FIRST_RUN_PASSWORD', 'unset')
      : warn('FIRST_RUN_PASSWORD', 'is set: remove it once setup is done'),
    config.TRUST_PROXY_HOPS > 0
      ? ok('TRUST_PROXY_HOPS', `${config.TRUST_PROXY_HOPS}: the client address is taken that many hops from the right`)
      : warn('TRUST_PROXY_HOPS', 'is 0: behind a reverse proxy every request would seem to come from the proxy'),
  ];
  const plainOrigins = config.corsOrigins.filter((origin) => origin.startsWith('http://'));
  findings.push(
    plainOrigins.length > 0
      ? warn('CORS_ORIGINS', `plain-http origins allowed: ${plainOrigins.join(', ')}`)
      : ok('CORS_ORIGINS', config.corsOrigins.length > 0 ? config.corsOrigins.join(', ') : 'no cross-origin caller'),
  );
  const limits = {
    RATE_LIMIT_PER_MINUTE: config.RATE_LIMIT_PER_MINUTE,
    RATE_LIMIT_SIGN_IN_PER_MINUTE: config.RATE_LIMIT_SIGN_IN_PER_MINUTE,
    PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR: config.PAIRING_CODE_FAILURES_GLOBAL_PER_HOUR,
  };
  const off = Object.entries(limits).filter(([, value]) => value <= 0);
  findings.push(
    off.length > 0
      ? fail('rate limits', `off: ${off.map(([name]) => name).join(', ')}`)
      : ok(
          'rate limits',
          Object.entries(limits)
            .map(([name, value]) => `${name}=${value}`)
            .join(', '),
        ),
  );
  return findings;
}

async function checkPublicUrl(deps: DoctorDeps): Promise<Finding> {
  const url = new URL('/healthz', deps.config.publicOrigin).href;
  const fetchPublic = deps.fetchPublic ?? ((target: string) => fetch(target, { signal: AbortSignal.timeout(5000), redirect: 'manual' }));
  try {
    const response = await fetchPublic(url);
    if (!response.ok) return fail('public URL', `${url} answered ${response.status}`);
    if (deps.config.publicUrl.protocol === 'https:' && !response.headers.get('strict-transport-security')) {
      return warn('public URL', `${url} answers without Strict-Transport-Security: is a proxy removing it?`);
    }
    return ok('public URL', `${url} answers${deps.config.publicUrl.protocol === 'https:' ? ' with a valid certificate and HSTS' : ''}`);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    return fail('public URL', `${url} cannot be reached (${cause}): DNS, proxy or certificate`);
  }
}

async function checkMongo(deps: DoctorDeps): Promise<Finding> {
  const url = new URL(deps.config.MONGODB_URL);
  const option = (name: string) => [...url.searchParams].find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  try {
    const hello = (await deps.db.admin().command({ hello: 1 })) as { setName?: string };
    if (!hello.setName) {
      return fail('MongoDB', 'is not a replica set: run one (w=majority and retryable writes need it), see docs/deployment.md');
    }
    const missing = [option('w') === 'majority' ? null : 'w=majority', option('retryWrites') === 'true' ? null : 'retryWrites=true'].filter(
      Boolean,
    );
    if (missing.length > 0) return fail('MongoDB', `replica set ${hello.setName}, but MONGODB_URL lacks ${missing.join(' and ')}`);
    return ok('MongoDB', `replica set ${hello.setName} with w=majority and retryable writes`);
  } catch (error) {
    return fail('MongoDB', `does not answer: ${(error as Error).name}`);
  }
}

async function checkRedis(deps: DoctorDeps): Promise<Finding> {
  const started = Date.now();
  try {
    await deps.redis.ping();
  } catch (error) {
    return fail('Redis', `does not answer within ${deps.config.REDIS_TIMEOUT_MS} ms: ${(error as Error).message}`);
  }
  const ms = Date.now() - started;
  const url = new URL(deps.config.REDIS_URL);
  if (!url.password && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    return warn('Redis', `answers in ${ms} ms, without a password on ${url.hostname}: set one (requirepass) unless the network is private`);
  }
  return ok('Redis', `answers in ${ms} ms`);
}

async function checkKeyring(keyring: Keyring): Promise<Finding> {
  if (keyring.isStatic) return warn('keyring', 'static key (SECRET_KEY)');
  try {
    const { kid } = keyring.signingKey();
    return ok('keyring', `active key ${kid}, ${keyring.jwks().keys.length} published in the JWKS`);
  } catch {
    return fail('keyring', 'no active signing key: run gatehouse keys rotate');
  }
}

async function checkSetup(deps: DoctorDeps): Promise<Finding> {
  try {
    return (await deps.setupComplete())
      ? ok('owner', 'setup is done: an owner exists')
      : warn('owner', 'setup is not done yet: no owner account');
  } catch (error) {
    return fail('owner', `cannot be read: ${(error as Error).name}`);
  }
}

async function checkAudit(deps: DoctorDeps): Promise<Finding> {
  try {
    const result = await verifyChain(deps.db, deriveChainKey(deps.config.masterKey));
    return result.intact
      ? ok('audit chain', `intact (${result.checked} sealed entries checked)`)
      : fail('audit chain', `BROKEN: ${result.findings.length} findings, run gatehouse audit verify`);
  } catch (error) {
    return fail('audit chain', `cannot be verified: ${(error as Error).name}`);
  }
}
