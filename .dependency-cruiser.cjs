/** The dependency rules of style.md §6 (R11, R12), checked by `npm test`. */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'runtime-is-generic',
      comment: 'runtime/ knows no component, no HTTP and no entity',
      severity: 'error',
      from: { path: '^runtime/' },
      to: { path: '^(actors|http|entities)/' },
    },
    {
      name: 'entities-are-leaves',
      severity: 'error',
      from: { path: '^entities/' },
      to: { path: '^(actors|http|runtime)/' },
    },
    {
      name: 'io-libs-in-runtime',
      comment: 'comedy, amqplib, dockerode and simple-git are wrapped once, under runtime/ (design §3)',
      severity: 'error',
      from: { pathNot: '^(runtime|test)/' },
      to: { path: 'node_modules/(comedy|amqplib|dockerode|docker-modem|simple-git)/' },
    },
    {
      name: 'comedy-in-actor-runtime-only',
      comment: 'only runtime/actors/comedy.ts and host.actor.ts speak to comedy',
      severity: 'error',
      from: { pathNot: ['^runtime/actors/(comedy|host\\.actor)\\.ts$', '^test/bench/'] },
      to: { path: 'node_modules/comedy/' },
    },
    {
      name: 'http-sees-contracts',
      severity: 'error',
      from: { path: '^http/' },
      to: { path: '^actors/', pathNot: '^actors/[^/]+/messages\\.ts$' },
    },
    {
      name: 'components-via-contracts',
      comment: 'a component reaches another only through its messages.ts',
      severity: 'error',
      from: { path: '^actors/([^/]+)/' },
      to: { path: '^actors/[^/]+/', pathNot: ['^actors/$1/', '^actors/[^/]+/messages\\.ts$', '^actors/shared/'] },
    },
    {
      name: 'client-is-server-free',
      comment: 'workers import http/client: it must not drag in the database or the web server',
      severity: 'error',
      from: { path: '^http/client/' },
      to: { path: ['^entities/', '^http/(?!client/)', 'node_modules/(@mikro-orm|koa|@koa|pg|@electric-sql)/'] },
    },
    {
      name: 'cli-dispatches',
      comment: 'the CLI holds no logic of its own (design §3): the runtime entry, the Manager setup and contracts, never entities or component internals',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: ['^entities/', '^actors/'], pathNot: ['^actors/main\\.ts$', '^actors/manager/setup\\.ts$', '^actors/[^/]+/messages\\.ts$'] },
    },
    {
      name: 'core-is-pure',
      comment: 'core/ folders take data in and return data out (style R2)',
      severity: 'error',
      from: { path: '/core/', pathNot: '^test/' },
      to: { path: ['node_modules/(comedy|amqplib|dockerode|simple-git|@mikro-orm|koa|@koa)', '^(http|entities)/'] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    includeOnly: { path: '^(runtime|actors|http|entities|migrations|cli|test|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
