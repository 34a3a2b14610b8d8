import { expect } from 'chai';
import { healthCheckOf, healthVerdict, type HealthObservation } from '../../../../actors/deployer/core/health.js';
import { UnitHealth } from '../../../../actors/orchestrator/messages.js';

const seen = (over: Partial<HealthObservation> = {}): HealthObservation => ({ elapsedMs: 1_000, state: 'running', restartCount: 0, exitCode: 0, dockerHealth: null, runningForMs: 1_000, ...over });
const http = healthCheckOf(UnitHealth.parse({ http: { path: '/health', timeout_seconds: 5 } }), [8080, 9090], 5);
const docker = healthCheckOf(UnitHealth.parse({ docker: true, timeout_seconds: 5 }), [], 5);
const running = healthCheckOf(UnitHealth.parse({ running_seconds: 2 }), [], 5);
const none = healthCheckOf(undefined, [], 3);

describe('deployer core: health verdicts', () => {
  it('applies defaults: the first port for HTTP, a running time when no check is given', () => {
    expect(http).to.deep.equal({ kind: 'http', path: '/health', containerPort: 8080, timeoutMs: 5_000, intervalMs: 1_000 });
    expect(none).to.include({ kind: 'running', forMs: 3_000 });
  });

  const cases: Array<[string, ReturnType<typeof healthCheckOf>, Partial<HealthObservation>, string]> = [
    ['http 200', http, { http: { status: 200 } }, 'healthy'],
    ['http 302', http, { http: { status: 302 } }, 'healthy'],
    ['http 404 in time', http, { http: { status: 404 } }, 'waiting'],
    ['http 404 too long', http, { elapsedMs: 6_000, http: { status: 404 } }, 'failed: not healthy after 6 s (last answer: HTTP 404)'],
    ['http refused too long', http, { elapsedMs: 5_000, http: { error: 'ECONNREFUSED' } }, 'failed: not healthy after 5 s (last error: ECONNREFUSED)'],
    ['exited', http, { state: 'exited', exitCode: 2 }, 'failed: the container exited with code 2'],
    ['restarting', running, { state: 'restarting', restartCount: 1, exitCode: 1 }, 'failed: the container keeps exiting (last exit code 1, 1 restart(s))'],
    ['docker healthy', docker, { dockerHealth: 'healthy' }, 'healthy'],
    ['docker starting', docker, { dockerHealth: 'starting' }, 'waiting'],
    ['docker unhealthy', docker, { dockerHealth: 'unhealthy' }, 'failed: the image HEALTHCHECK reports unhealthy'],
    ['docker without HEALTHCHECK', docker, {}, 'failed: health.docker is set but the image has no HEALTHCHECK'],
    ['running long enough', running, { runningForMs: 2_000 }, 'healthy'],
    ['running not yet', running, { runningForMs: 500 }, 'waiting'],
    ['an image HEALTHCHECK failing fails any check', none, { dockerHealth: 'unhealthy' }, 'failed: the image HEALTHCHECK reports unhealthy'],
  ];
  for (const [what, check, over, expected] of cases) {
    it(what, () => {
      const v = healthVerdict(check, seen(over));
      expect(v.kind === 'failed' ? `failed: ${v.reason}` : v.kind).to.equal(expected);
    });
  }
});
