import { expect } from 'chai';
import { fleetCurrentStateOf, systemdStateOf, type ContainerState } from '../../../../actors/fleet-manager/core/unit-state.js';

describe('FleetManager core: container state as systemd states', () => {
  const cases: Array<[ContainerState, string, string]> = [
    [{ state: 'running', exitCode: 0, health: 'none' }, 'active', 'running'],
    [{ state: 'running', exitCode: 0, health: 'healthy' }, 'active', 'running'],
    [{ state: 'running', exitCode: 0, health: 'starting' }, 'activating', 'start'],
    [{ state: 'running', exitCode: 0, health: 'unhealthy' }, 'failed', 'failed'],
    [{ state: 'created', exitCode: 0, health: 'none' }, 'activating', 'start'],
    [{ state: 'restarting', exitCode: 1, health: 'none' }, 'activating', 'auto-restart'],
    [{ state: 'paused', exitCode: 0, health: 'healthy' }, 'inactive', 'paused'],
    [{ state: 'removing', exitCode: 0, health: 'none' }, 'deactivating', 'stop'],
    [{ state: 'exited', exitCode: 0, health: 'none' }, 'inactive', 'dead'],
    [{ state: 'exited', exitCode: 3, health: 'none' }, 'failed', 'failed'],
    [{ state: 'exited', exitCode: 137, health: 'unhealthy' }, 'failed', 'failed'],
    [{ state: 'dead', exitCode: 0, health: 'none' }, 'failed', 'failed'],
    [{ state: 'something-new', exitCode: 0, health: 'none' }, 'failed', 'failed'],
  ];
  for (const [container, active, sub] of cases) {
    it(`${container.state} (exit ${container.exitCode}, health ${container.health}) -> loaded/${active}/${sub}`, () => {
      expect(systemdStateOf(container)).to.deep.equal({ load: 'loaded', active, sub });
    });
  }

  const current: Array<[string, string]> = [
    ['created', 'loaded'],
    ['running', 'launched'],
    ['restarting', 'launched'],
    ['paused', 'launched'],
    ['exited', 'inactive'],
    ['dead', 'inactive'],
    ['removing', 'inactive'],
  ];
  for (const [docker, fleet] of current) it(`Fleet currentState of ${docker} is ${fleet}`, () => expect(fleetCurrentStateOf(docker)).to.equal(fleet));
});
