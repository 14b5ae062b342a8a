/**
 * The server's shape, checked by `npm run lint` (docs/architecture.md, "Folders and their rules").
 * Libraries (`http`, `store`, `crypto`, `errors`, `log`, `config`) know no feature; features meet
 * each other only through their `index.ts`; `app.ts` assembles them and nothing imports it
 * except the two entry points (`main.ts`, the `cli/` command).
 */
const FEATURES = '(admin|audit|cli|oidc|pairing|sessions|setup|signals|tokens|users|web)';
const LIBRARIES = '(http|store|crypto|errors|log|config)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-feature-imports-app',
      comment: 'app.ts assembles the features; a feature that imports it would depend on all the others.',
      severity: 'error',
      from: { path: '^server/src/', pathNot: ['^server/src/main\\.ts$', '^server/src/cli/'] },
      to: { path: '^server/src/app\\.ts$' },
    },
    {
      name: 'libraries-import-no-feature',
      comment: 'http/ and the other libraries are used by every feature, so they must not depend on one.',
      severity: 'error',
      from: { path: `^server/src/${LIBRARIES}/` },
      to: { path: [`^server/src/${FEATURES}/`, '^server/src/app\\.ts$'] },
    },
    {
      name: 'only-through-index',
      comment: "Another folder's files are reached through its index.ts, the one door that says what it offers.",
      severity: 'error',
      from: { path: '^server/src/([^/]+)/' },
      to: { path: '^server/src/[^/]+/', pathNot: ['^server/src/$1/', '^server/src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Two folders that import each other are one feature in two places.',
      severity: 'error',
      scope: 'folder',
      from: { path: `^server/src/(${FEATURES.slice(1, -1)}|${LIBRARIES.slice(1, -1)})` },
      to: { circular: true, path: `^server/src/(${FEATURES.slice(1, -1)}|${LIBRARIES.slice(1, -1)})` },
    },
    {
      name: 'no-module-cycles',
      severity: 'error',
      from: { path: '^server/src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['\\.test\\.tsx?$'] },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['gatehouse-source', 'import', 'types', 'default'] },
  },
};
