import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ManagerActorProtocol } from './intake.js';
import type { ManagerArgs } from './messages.js';
import { createApp, REQUEST_DEADLINES_MS } from '../../http/app.js';
import { tokenIssuer } from '../../http/auth.js';
import { bootstrapPlatform, ensureAdminClient, ensurePlatformClient } from '../../http/bootstrap.js';
import { openDatabase } from '../../http/database.js';
import { externalAuthFrom } from '../../http/external-auth.js';
import { purgeRpcRequests } from '../../http/maintenance.js';
import { loadMessagingMetadata } from '../../http/messaging-metadata.js';
import { buildLogRelay } from '../../http/build-log-relay.js';
import { standingIn } from '../../http/revocation.js';
import { MANAGER_ROUTES, type ManagerDeps } from '../../http/routes/index.js';
import { loadKeyPair } from '../../http/secrets.js';
import { workflowCountsIn } from '../../http/metrics.js';
import { defineActor } from '../../runtime/actors/protocol.js';

/**
 * The Manager component (design §6): owns the database and serves the REST API. On first start it creates the admin
 * API client and prints its credentials once, on stdout, never in the logs.
 */
export default defineActor<ManagerActorProtocol, ManagerArgs>(import.meta.url, async (ctx) => {
  const { config } = ctx.args;
  const db = await openDatabase(config.database, ctx.log);
  const externalAuth = externalAuthFrom(config.externalAuth, { log: ctx.log });
  // Each instance relays its own copy of the build logs (reference §4.8), fed by its intake.
  const buildLogs = buildLogRelay();
  const deps: ManagerDeps = {
    db,
    tokens: tokenIssuer({ ...config.tokens, standing: standingIn(db) }),
    log: ctx.log,
    transport: ctx.transport,
    buildLogs,
    exchangeId: ctx.args.exchangeId,
    brokerId: ctx.args.brokerId,
    secrets: loadKeyPair(ctx.args.keys),
    ...(externalAuth ? { externalAuth } : {}),
    ...(ctx.args.uiUrl ? { uiUrl: ctx.args.uiUrl } : {}),
    ...(ctx.metrics ? { metrics: ctx.metrics } : {}),
  };
  // Before listening: the embedded components' first token request must find their client.
  const admin = ctx.args.bootstrap ? (await bootstrapPlatform(db.fork(), deps.secrets, ctx.args.bootstrap)).adminClient : await ensureAdminClient(db.fork());
  if (ctx.args.platformClient) await ensurePlatformClient(db.fork(), ctx.args.platformClient);
  const server: Server = createApp(deps, MANAGER_ROUTES).listen(config.http.port, config.http.host);
  server.headersTimeout = REQUEST_DEADLINES_MS.headers;
  server.requestTimeout = REQUEST_DEADLINES_MS.request;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (err) => reject(new Error(`the Manager cannot listen on ${config.http.host}:${config.http.port}: ${err.message}`, { cause: err })));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.http.host}:${port}`;
  ctx.log.info({ url }, 'Manager API listening');
  if (admin) {
    process.stdout.write(
      `\nOpenAperture Manager at ${url}\nFirst start: an admin API client was created. Its secret is shown only now:\n` +
        `  client_id:     ${admin.client_id}\n  client_secret: ${admin.client_secret}\n` +
        `Get a token: curl -s -X POST ${url}/oauth/token -H 'content-type: application/json' ` +
        `-d '{"grant_type":"client_credentials","client_id":"${admin.client_id}","client_secret":"<secret>"}'\n` +
        `A first workflow (the example of deploy/examples/hello; README "Quick start"):\n` +
        `  bin/openaperture.mjs login --url ${url} --client-id ${admin.client_id} --client-secret <secret>\n` +
        `  bash deploy/examples/hello/make-repos.sh /tmp/oa-example\n` +
        `  bin/openaperture.mjs workflow run file:///tmp/oa-example/hello_docker --milestones build,deploy\n\n`,
    );
  }
  // Background duty (reference §2.1): orphaned RPC requests are purged every hour.
  const purge = setInterval(() => {
    purgeRpcRequests(db.fork(), new Date()).then(
      (purged) => purged > 0 && ctx.log.info({ purged }, 'purged orphaned RPC requests'),
      (err: unknown) => ctx.log.warn({ err }, 'RPC request purge failed; the next hour tries again'),
    );
  }, 60 * 60 * 1_000);
  purge.unref();
  const stopCounting = ctx.metrics?.countWorkflowsWith(workflowCountsIn(db));
  return {
    handlers: {
      status: () => ({ url }),
      messaging_metadata: () => loadMessagingMetadata(db.fork(), deps.secrets),
      build_logs: ({ payload }) => {
        buildLogs.relay(payload);
        return { type: 'ack' };
      },
    },
    async stop() {
      clearInterval(purge);
      stopCounting?.();
      buildLogs.close(); // ends the live streams, which would hold the server open
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
});
