import { expect } from 'chai';
import { parseRequest } from '../../../actors/fleet-manager/intake.js';
import { FLEET_ACTION_REQUESTED } from '../../../actors/fleet-manager/messages.js';

describe('FleetManager intake: requests checked at the edge', () => {
  const ok = (payload: unknown) => parseRequest({ type: FLEET_ACTION_REQUESTED, payload });
  it('takes each action of reference §7.3', () => {
    for (const action of ['list_machines', 'list_units', 'list_unit_states', 'node_info']) expect(ok({ etcd_token: 't', action }).ok, action).to.equal(true);
    expect(ok({ etcd_token: 't', action: 'unit_logs', action_parameters: { unit_name: 'web@0.service' } }).ok).to.equal(true);
    expect(ok({ etcd_token: 't', action: 'node_info', action_parameters: { nodes: ['a'] } }).ok).to.equal(true);
  });
  const refused: Array<[string, unknown, RegExp]> = [
    ['an unknown action, in the original words', { etcd_token: 't', action: 'destroy_cluster' }, /^The following FleetManager action is not supported: destroy_cluster$/],
    ['unit_logs without unit_name', { etcd_token: 't', action: 'unit_logs', action_parameters: {} }, /action_parameters\.unit_name/],
    ['restart_unit with an empty unit_name', { etcd_token: 't', action: 'restart_unit', action_parameters: { unit_name: '' } }, /action_parameters\.unit_name/],
    ['no etcd_token', { action: 'list_units' }, /etcd_token/],
    ['no action', { etcd_token: 't' }, /action/],
    ['not an object', 'list_units', /payload|action/],
  ];
  for (const [what, payload, reason] of refused) {
    it(`refuses ${what}`, () => {
      const parsed = ok(payload);
      expect(parsed.ok ? 'accepted' : parsed.reason).to.match(reason);
    });
  }
  it('refuses another message type, naming it', () => {
    const parsed = parseRequest({ type: 'something.else', payload: { etcd_token: 't', action: 'list_units' } });
    expect(parsed.ok ? 'accepted' : parsed.reason).to.match(/unexpected message type "something.else"/);
  });
});
