// The import rules of the layout (docs/architecture.md draws them). They hold by a
// test (test/architecture/dependency-rules.test.ts, part of `npm test`), not by memory;
// `npm run deps` prints the same verdict from the command line.
//
// CommonJS because dependency-cruiser loads its configuration with require().

/** The sans-IO cores: the protocol logic that the real transports and the simulator both drive. */
const CORES = '^(server/(core|node|wire)|client/core)/';
/** What drives the cores from outside, or measures them: never a dependency of a core. */
const OUTSIDE_CORES = '^(server/(transport|observability|bench|main\\.ts)|client/net|sim|loadtest|scenarios|chaos|test)/?';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only imports included: a cycle means two files are one concept or a type sits in the wrong place.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-sans-io',
      severity: 'error',
      comment:
        'The server and client cores take time, randomness and storage as inputs: no node: module. ' +
        'The one exception is password hashing (server/core/password.ts), the interface behind which node:crypto sits.',
      from: { path: CORES, pathNot: '^server/core/password\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-imports-inward',
      severity: 'error',
      comment: 'A core never imports what drives it: transports, CLIs, benchmarks, the simulator, scenarios, load tests or tests.',
      from: { path: CORES },
      to: { path: OUTSIDE_CORES },
    },
    {
      name: 'protocol-core-below-node',
      severity: 'error',
      comment: 'server/core holds the commands; server/node routes requests and links to them, never the other way round.',
      from: { path: '^server/core/' },
      to: { path: '^server/node/' },
    },
    {
      name: 'store-below-transports',
      severity: 'error',
      comment: 'A store serves the core; it never imports a transport, the simulator, the load test or the tests.',
      from: { path: '^server/store/' },
      to: { path: '^(server/(transport|observability|node|bench|main\\.ts)|client|sim|loadtest|scenarios|test)/?' },
    },
    {
      name: 'sim-drives-cores-not-transports',
      severity: 'error',
      comment: 'The simulator drives the same cores as the real transports; it never imports a transport, the real server\'s observability, a socket client or the load test.',
      from: { path: '^sim/' },
      to: { path: '^(server/(transport|observability|main\\.ts)|client/net|loadtest|test)/?' },
    },
    {
      name: 'scenarios-are-data',
      severity: 'error',
      comment: 'Scenarios are shared by the simulator and the load test; they import neither.',
      from: { path: '^scenarios/' },
      to: { path: '^(sim|loadtest|test|server/transport|client/net)/' },
    },
    {
      name: 'nothing-imports-loadtest',
      severity: 'error',
      comment: 'The load test is a leaf: nothing but itself and its own tests imports it.',
      from: { pathNot: '^(loadtest|test/loadtest)/' },
      to: { path: '^loadtest/' },
    },
    {
      name: 'nothing-imports-chaos',
      severity: 'error',
      comment: 'The chaos runs (the real server behind a fault proxy) are a leaf: nothing but themselves and their own tests imports them.',
      from: { pathNot: '^(chaos|test/chaos)/' },
      to: { path: '^chaos/' },
    },
    {
      name: 'chaos-judges-with-the-checkers',
      severity: 'error',
      comment:
        'A chaos run drives the real server and client on real sockets; of the simulator it takes the checkers and the plan\'s vocabulary ' +
        '(checkers, violation, seeded streams and drawn text, RunSpec) and the run picture (its model and its page), never the simulated world that drives ' +
        'the cores itself, nor the recorder that watches that world.',
      from: { path: '^chaos/' },
      to: { path: '^sim/', pathNot: '^sim/((checkers|violation|rng|run-spec|run-spec-check|content-text)|picture/(run-picture|picture-html))\\.ts$' },
    },
    {
      name: 'nothing-imports-tests',
      severity: 'error',
      comment: 'Production code never imports test code.',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a broken path would hide a dependency from these rules).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|loadtest/k6)/' },
    // Type-only imports count: a type in the wrong file is a layering problem too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.d.ts'],
    },
  },
};
