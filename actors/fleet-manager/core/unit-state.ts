/**
 * A container's state as the Fleet-era states callers read (reference §7.3, §8.4): systemd's load/active/sub states
 * for `list_unit_states`, Fleet's current state for `list_units`. The Overseer raises "Unit X is in a failed state!" on
 * `failed`, and a deploy monitor waits while `activating`, so those two must mean what they meant under Fleet.
 */

/** What the mapping reads of a container: Docker's state, exit code and health (`none` without a HEALTHCHECK). */
export interface ContainerState {
  readonly state: string;
  readonly exitCode: number;
  readonly health: string;
}

export interface SystemdState {
  readonly load: 'loaded';
  readonly active: 'active' | 'activating' | 'deactivating' | 'inactive' | 'failed';
  readonly sub: string;
}

const state = (active: SystemdState['active'], sub: string): SystemdState => ({ load: 'loaded', active, sub });

/**
 * running (healthy or no health check) -> active/running; created, restarting or health starting -> activating;
 * exited 0 -> inactive/dead; exited non-zero, dead or unhealthy -> failed/failed. A container exists, so its unit is
 * always `loaded`.
 */
export function systemdStateOf(c: ContainerState): SystemdState {
  switch (c.state) {
    case 'running':
      if (c.health === 'unhealthy') return state('failed', 'failed');
      if (c.health === 'starting') return state('activating', 'start');
      return state('active', 'running');
    case 'created':
      return state('activating', 'start');
    case 'restarting':
      return state('activating', 'auto-restart');
    // Frozen by `docker pause`: not serving, not failed either.
    case 'paused':
      return state('inactive', 'paused');
    case 'removing':
      return state('deactivating', 'stop');
    case 'exited':
      return c.exitCode === 0 ? state('inactive', 'dead') : state('failed', 'failed');
    default:
      // `dead` (Docker could not remove or stop it) and any state a later Docker adds.
      return state('failed', 'failed');
  }
}

/** Fleet's `currentState`: `launched` once started (even if it failed since), `loaded` before, `inactive` after. */
export function fleetCurrentStateOf(dockerState: string): 'launched' | 'loaded' | 'inactive' {
  switch (dockerState) {
    case 'created':
      return 'loaded';
    case 'exited':
    case 'dead':
    case 'removing':
      return 'inactive';
    default:
      return 'launched';
  }
}
