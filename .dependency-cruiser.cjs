/**
 * Module boundaries, checked in CI:
 * - platform code (infrastructure) never imports a business module;
 * - a module never reaches into another module's repository (only its service);
 * - nothing imports the CLI or the composition root from below.
 */
module.exports = {
  forbidden: [
    {
      name: 'platform-imports-no-module',
      severity: 'error',
      comment: 'src/platform is infrastructure: it must not know any business module',
      from: { path: '^src/platform/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'no-foreign-repository',
      severity: 'error',
      comment: 'A module talks to another module through its service, never its repository (its tables)',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/(repo|[a-z0-9-]+-repo)\\.ts$', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'modules-import-no-entry-points',
      severity: 'error',
      comment: 'Modules and platform are below the entry points (app.ts, main.ts, cli/)',
      from: { path: '^src/(modules|platform)/' },
      to: { path: '^src/(app|main)\\.ts$|^src/cli/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
