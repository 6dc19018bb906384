/** Dependency rules of ARCHITECTURE.md: plug-ins never import the servers that host them. */
module.exports = {
  forbidden: [
    {
      name: 'families-stay-below-servers',
      comment: 'auth/, modules/ and buffer/ never import receiver/, relay/, connector/ or cli/.',
      severity: 'error',
      from: { path: '^src/(auth|modules|buffer)/' },
      to: { path: '^src/(receiver|relay|connector|cli)/' },
    },
    {
      name: 'relay-and-connector-share-only-protocol',
      comment: 'relay/ and connector/ share wire types only through protocol/.',
      severity: 'error',
      from: { path: '^src/relay/' },
      to: { path: '^src/connector/' },
    },
    {
      name: 'connector-does-not-import-relay',
      severity: 'error',
      from: { path: '^src/connector/' },
      to: { path: '^src/(relay|receiver)/' },
    },
    {
      name: 'only-cli-wires-everything',
      comment: 'Nothing imports cli/.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'shared-is-a-leaf',
      comment: 'shared/ and observability/ depend on nothing else in src/.',
      severity: 'error',
      from: { path: '^src/(shared|observability)/' },
      to: { path: '^src/(?!shared|observability)' },
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
    exclude: { path: '\\.test\\.ts$' },
  },
};
