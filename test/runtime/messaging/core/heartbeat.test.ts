import { expect } from 'chai';
import { HeartbeatPayload, heartbeatPayload, type HeartbeatFacts } from '../../../../runtime/messaging/core/heartbeat.js';

const facts: HeartbeatFacts = { status: 'active', workload: [], hostname: 'builder-7f3a', type: 'builder' };

describe('heartbeatPayload (reference §8.1)', () => {
  const cases: Array<[string, HeartbeatFacts, HeartbeatPayload]> = [
    // Reference §10A, verbatim.
    ['the reference example', facts, { status: 'active', workload: [], hostname: 'builder-7f3a', type: 'builder', event_type: 'status' }],
    [
      'an inactive module with a workload',
      { status: 'inactive', workload: [{ workflow_id: 'w-1' }, 'w-2'], hostname: 'deployer-1', type: 'deployer' },
      { status: 'inactive', workload: [{ workflow_id: 'w-1' }, 'w-2'], hostname: 'deployer-1', type: 'deployer', event_type: 'status' },
    ],
  ];
  for (const [title, input, expected] of cases) {
    it(title, () => {
      const payload = heartbeatPayload(input);
      expect(payload).to.deep.equal(expected);
      expect(HeartbeatPayload.parse(payload)).to.deep.equal(expected);
    });
  }

  it('copies the workload, so a later change by the module does not leak into a sent beat', () => {
    const workload: unknown[] = ['w-1'];
    const payload = heartbeatPayload({ ...facts, workload });
    workload.push('w-2');
    expect(payload.workload).to.deep.equal(['w-1']);
  });

  it('serializes to the JSON of reference §10A', () => {
    expect(JSON.stringify(heartbeatPayload(facts))).to.equal(
      '{"status":"active","workload":[],"hostname":"builder-7f3a","type":"builder","event_type":"status"}',
    );
  });
});

describe('HeartbeatPayload schema', () => {
  const valid = { status: 'active', workload: [], hostname: 'h', type: 'builder', event_type: 'status' };
  const invalid: Array<[string, unknown, string]> = [
    ['another event type', { ...valid, event_type: 'upgrade' }, 'event_type'],
    ['no event type', { ...valid, event_type: undefined }, 'event_type'],
    ['an unknown status', { ...valid, status: 'dead' }, 'status'],
    ['workload as JSON text', { ...valid, workload: '[]' }, 'workload'],
    ['an empty hostname', { ...valid, hostname: '' }, 'hostname'],
    ['no type', { ...valid, type: undefined }, 'type'],
    ['not an object', [valid], ''],
  ];
  for (const [title, input, field] of invalid) {
    it(`rejects ${title}`, () => {
      const parsed = HeartbeatPayload.safeParse(input);
      expect(parsed.success).to.equal(false);
      expect(parsed.error?.issues.map((i) => i.path.join('.'))).to.include(field);
    });
  }

  it('drops unknown keys instead of rejecting them (a newer module during a rolling upgrade)', () => {
    expect(HeartbeatPayload.parse({ ...valid, uptime_ms: 5 })).to.deep.equal(valid);
  });
});
