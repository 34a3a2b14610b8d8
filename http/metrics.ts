import type Koa from 'koa';
import type { Database } from './database.js';
import type { ProcessMetrics, WorkflowCounts } from '../runtime/metrics/process-metrics.js';

/** Answers that matched no route count under one label, so a scan of random paths cannot grow the series. */
const UNMATCHED = 'unmatched';

/**
 * Records every answer in `openaperture_http_request_duration_seconds` by the route template the router matched
 * (`/workflows/:id`, as http/route.ts declares it), after the error handler has set the final status.
 */
export function observeRequests(metrics: ProcessMetrics): Koa.Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = '_matchedRoute' in ctx && typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : UNMATCHED;
      metrics.httpRequest({ method: ctx.method, route, status: ctx.status }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

const WORKFLOW_STATES = ['pending', 'running', 'succeeded', 'failed'] as const;

/**
 * The workflows of each state, one grouped count over the table per scrape: `failed` (workflow_error), `succeeded`
 * (completed without error), `running` (executed, not completed), `pending` (never executed).
 */
export function workflowCountsIn(db: Database): WorkflowCounts {
  return async () => {
    const rows = await db.read(
      `select case when workflow_error is true then 'failed'
                   when workflow_completed then 'succeeded'
                   when current_step is not null or execute_requested_at is not null then 'running'
                   else 'pending' end as state, count(*)::int as count
         from workflows group by 1`,
      [],
    );
    const counted = new Map(rows.map((row) => [String(row.state), Number(row.count)]));
    // Every state, a zero too: a state without a series would read as "no data", not as none.
    return WORKFLOW_STATES.map((state) => ({ state, count: counted.get(state) ?? 0 }));
  };
}
