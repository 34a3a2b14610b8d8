import type { BaseDeps } from '../app.js';
import { NotFoundError } from '../errors.js';
import { defineRoute } from '../route.js';

/**
 * `GET /metrics` on the API's address, for a viewer token (README "Metrics"): the API may face a network that the
 * per-process listener (OA_METRICS_ADDRESS, no token) should not. Prometheus gets its token with `oauth2`
 * client credentials against `/oauth/token`.
 */
export const metricsRoutes = [
  defineRoute<BaseDeps>({
    method: 'get',
    path: '/metrics',
    summary: "Prometheus metrics of the Manager's process",
    tag: 'metrics',
    access: 'viewer',
    item: 'Metrics',
    async handle(_input, { deps }) {
      if (deps.metrics === undefined) throw new NotFoundError('Metrics');
      return { status: 200, text: await deps.metrics.registry.metrics(), contentType: deps.metrics.registry.contentType };
    },
  }),
];
