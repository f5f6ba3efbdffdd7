/**
 * The layers of src/, checked by `npm run lint:layers` (dependency-cruiser), from the bottom:
 *   base      config.ts, logger.ts, errors.ts, util/           imports nothing else of src/
 *   plumbing  db/, auth/, metrics/, graphql/, server/          imports base and plumbing only
 *   domains   permissions/, jobs/, workers/, daemon/, realtime/, notifications/, alerts/
 *             (jobs, the core, imports no other domain but permissions)
 *   app       app/ (schema, services, request context, server start), main.ts: wires them together
 * Domains may import app/context.ts (the request context: who asks, what they may do, the
 * services) and, for types only, the rest of app/. The worker SDK (sdk/) is the
 * client library workers install: it imports nothing of the server. No import circles (other
 * than through type-only imports, which vanish at run time).
 */
const DOMAINS = '^src/(permissions|jobs|workers|daemon|realtime|notifications|alerts)/';
const PLUMBING = '^src/(db|auth|metrics|graphql|server)/';
const BASE = '^src/(util/|config[.]ts$|logger[.]ts$|errors[.]ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'base-imports-upward',
      comment: 'config, logger, errors and util/ are the base: they import nothing else of src/.',
      severity: 'error',
      from: { path: BASE },
      to: { path: '^src/', pathNot: BASE },
    },
    {
      name: 'plumbing-imports-domain-or-app',
      comment: 'Plumbing is below the domains: move the code to its domain, or wire it in app/.',
      severity: 'error',
      from: { path: PLUMBING },
      to: { path: `${DOMAINS}|^src/app/|^src/main[.]ts$|^src/sdk/` },
    },
    {
      name: 'auth-imports-graphql',
      comment: 'Who is asking (auth) is below how they ask (graphql).',
      severity: 'error',
      from: { path: '^src/(auth|db)/' },
      to: { path: '^src/(graphql|server|metrics)/' },
    },
    {
      name: 'jobs-imports-other-domains',
      comment: 'jobs is the core domain: workers, realtime, alerts and the rest build on it, not the other way.',
      severity: 'error',
      from: { path: '^src/jobs/' },
      to: { path: '^src/(workers|daemon|realtime|notifications|alerts)/' },
    },
    {
      name: 'permissions-imports-other-domains',
      severity: 'error',
      from: { path: '^src/permissions/' },
      to: { path: '^src/(jobs|workers|daemon|realtime|notifications|alerts)/' },
    },
    {
      name: 'domain-imports-app',
      comment: 'Domains use the request context (app/context.ts); everything else of app/ is wiring above them.',
      severity: 'error',
      from: { path: DOMAINS },
      to: { path: '^src/app/|^src/main[.]ts$', pathNot: '^src/app/context[.]ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'sdk-imports-server',
      comment: 'The worker SDK is the client library workers install: it may not import server code.',
      severity: 'error',
      from: { path: '^src/sdk/' },
      to: { path: '^src/', pathNot: '^src/sdk/' },
    },
    {
      name: 'no-circular',
      comment: 'Import circles make load order matter and layers meaningless.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'src-imports-tests-or-scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules|console)/' },
  },
};
