import autocannon from 'autocannon';

/** What one autocannon run measured: requests per second and latency percentiles (ms). */
export interface Load {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * One autocannon run of `seconds`, in a worker thread so the load generator does not share this event loop; any
 * error, timeout or non-2xx answer fails it, so a figure is never made of refusals.
 */
export async function measureLoad(options: autocannon.Options & { readonly duration: number }): Promise<Load> {
  const result = await autocannon({ ...options, workers: 1 });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0 || result.requests.total === 0) {
    throw new Error(`${options.url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total} requests`);
  }
  return { requestsPerSecond: result.requests.total / (result.duration || options.duration), p50: result.latency.p50, p99: result.latency.p99 };
}

/** Each figure's median over the rounds (taken separately: the rounds need not agree on which was the median). */
export function medianLoad(rounds: readonly Load[]): Load {
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return {
    requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
  };
}
