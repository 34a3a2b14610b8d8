import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProcessMetrics } from './process-metrics.js';
import type { ListenAddress } from '../config.js';
import type { Logger } from '../logger.js';

/** A process's metrics listener: where it answers, and how to stop it. */
export interface MetricsListener {
  /** `http://127.0.0.1:9464/metrics`, with the port bound (an address of port 0 gets a free one). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` of `metrics` in Prometheus text format, with no token: Prometheus scrapes a private address
 * (OA_METRICS_ADDRESS). Anything else is a 404. A failed scrape (a database that does not answer) is a 500 saying why.
 */
function metricsServer(metrics: ProcessMetrics, log: Logger): Server {
  return createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: unknown) => {
        log.warn({ err }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics not collected: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
}

/**
 * Starts the listener at `address`. An address it cannot listen on (a port another process holds: two processes on
 * one host need an address each) is logged, naming OA_METRICS_ADDRESS, and the process goes on without one: metrics
 * are not worth stopping the platform for.
 */
export async function startMetricsListener(address: Exclude<ListenAddress, 'off'>, metrics: ProcessMetrics, log: Logger): Promise<MetricsListener | undefined> {
  const server = metricsServer(metrics, log);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    log.warn({ err }, `OA_METRICS_ADDRESS: cannot listen on ${address.host}:${address.port} (${err instanceof Error ? err.message : String(err)}); this process serves no metrics`);
    return undefined;
  }
  const { port } = server.address() as AddressInfo;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${host}:${port}/metrics`;
  log.info({ url }, 'metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
