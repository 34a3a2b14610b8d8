import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { managerClient, type ManagerClient } from '../../../http/client/manager-client.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import { testDockerHosts, threeHosts } from '../../helpers/docker-hosts.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { closedPort } from '../../helpers/ports.js';
import { services } from '../../helpers/services.js';
import { routerArgs, startRouter, type TestRouter } from '../router/harness.js';
import { cleanHosts, seedCluster, startDeployer, startManager, type TestDeployer, type TestManager } from './fixtures.js';

/**
 * A routed deploy's world: a Manager, a Router (real HAProxy) and a Deployer on one in-memory broker, a cluster of the
 * three test hosts, and a unit `web` whose route is `hostname` on a free router `port`.
 */
export interface RoutedWorld {
  readonly cluster: string;
  readonly hostname: string;
  /** The repository the test's images go to, removed from the hosts on close. */
  readonly repo: string;
  readonly port: number;
  readonly deployer: TestDeployer;
  readonly client: ManagerClient;
  /** A deploy of `instances` of unit `web` on port 8080 (health at /health), its route with `route`'s extra fields. */
  request(image: string, commit: string, opts: { readonly instances: number; readonly route?: Record<string, unknown> }): Record<string, unknown>;
  /** The route's backends, `host:port state weight`, sorted. */
  backends(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startRoutedWorld(name: string): Promise<RoutedWorld> {
  const cluster = `${name}-${randomUUID().slice(0, 8)}`;
  const hostname = `web-${cluster}.example.test`;
  const repo = `${services().registry}/oa-${name}-test-${cluster}/web`;
  const dir = mkdtempSync(join(tmpdir(), `oa-${name}-`));
  let manager: TestManager | undefined;
  let router: TestRouter | undefined;
  let deployer: TestDeployer | undefined;
  const close = async (): Promise<void> => {
    await deployer?.stop();
    await router?.stop();
    await manager?.close();
    await cleanHosts(testDockerHosts().sockets, cluster, repo);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    manager = await startManager();
    const workflowId = await seedCluster(manager, cluster, threeHosts());
    const broker = new MemoryBroker();
    router = await startRouter(routerArgs({ baseUrl: manager.baseUrl, ...manager.client }, join(dir, 'router')), broker);
    deployer = await startDeployer(manager, {}, broker);
    const client = managerClient({ baseUrl: manager.baseUrl, ...manager.client, log: captureLogs().log });
    const port = await closedPort();
    return {
      cluster,
      hostname,
      repo,
      port,
      deployer,
      client,
      request: (image, commit, opts) => ({
        id: workflowId,
        etcd_token: cluster,
        docker_image: image,
        source_commit_hash: commit,
        deploy_messaging_exchange_id: '1',
        deployable_units: [
          {
            name: 'web',
            ports: [8080],
            instances: opts.instances,
            health: { http: { path: '/health', timeout_seconds: 4, interval_seconds: 0.2 } },
            route: { hostname, port, ...opts.route },
          },
        ],
      }),
      backends: async () => (await client.router.authority(hostname, port))?.routes.map((r) => `${r.hostname}:${r.port} ${r.state} ${r.weight}`).sort() ?? [],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
