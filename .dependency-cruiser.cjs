/**
 * The import rules of src/ (run by `npm run lint`, part of `npm test`). The picture of these
 * arrows is in docs/architecture.md ("Folders and their arrows"); keep the two in step.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle makes load order matter and hides which part owns what.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cli-wires-everything',
      comment: 'Only the entry point (src/cli/) composes the parts; nothing below imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'core-does-not-import-supervisor',
      comment: 'The parts are driven by the supervisor and attached to it at the entry point, through interfaces; none imports it.',
      severity: 'error',
      from: { path: '^src/(jobs|process|events|log|config|control|telemetry|discovery|watches|state|pid1)/' },
      to: { path: '^src/supervisor' },
    },
    {
      name: 'process-knows-no-jobs',
      comment: 'The process runner spawns commands; it knows nothing of jobs or the bus (of events/ only the long timer).',
      severity: 'error',
      from: { path: '^src/process/' },
      to: { path: '^src/(jobs|events|supervisor|control|telemetry|discovery|watches|state)', pathNot: '^src/events/long-timer\\.ts$' },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports is dead code (entry points and declarations excepted).',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: ['\\.d\\.ts$', '^src/cli/main\\.ts$', '^src/dashboard/assets/'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
