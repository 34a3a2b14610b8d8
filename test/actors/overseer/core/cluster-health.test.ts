import { expect } from 'chai';
import {
  diskEvents,
  failedUnitEvents,
  failedUnitsOf,
  noHostsEvents,
  stillFailed,
  unitStatesMissingEvent,
  type HealthEvent,
} from '../../../../actors/overseer/core/cluster-health.js';

const disk = (hostname: string, percent: number | null, severity: 'warning' | 'error', message: string): HealthEvent => ({
  unique: true,
  type: 'docker_disk_space_percent',
  severity,
  data: { docker_disk_space_percent: percent, hostname, etcd_token: 'tok' },
  message,
});
const state = (name: string, systemdActiveState: string) => ({ name, systemdActiveState });

describe('overseer core: cluster health events (reference §8.4)', () => {
  it('no hosts: one warning naming the cluster', () => {
    expect(noHostsEvents('tok', [])).to.deep.equal([
      { unique: true, type: 'docker_disk_space_percent', severity: 'warning', data: { host_cnt: 0, etcd_token: 'tok' }, message: 'EtcdCluster tok has no associated hosts' },
    ]);
    expect(noHostsEvents('tok', [{ id: 'h1' }])).to.deep.equal([]);
  });

  describe('disk use', () => {
    const cases: ReadonlyArray<[string, Record<string, { docker_disk_space_percent: number | null }>, HealthEvent[]]> = [
      ['80 % is fine', { h1: { docker_disk_space_percent: 80 } }, []],
      ['81 % is a warning', { h1: { docker_disk_space_percent: 81 } }, [disk('h1', 81, 'warning', 'Host h1 is reporting a Docker disk space utilization of 81%!')]],
      ['85 % is a warning', { h1: { docker_disk_space_percent: 85 } }, [disk('h1', 85, 'warning', 'Host h1 is reporting a Docker disk space utilization of 85%!')]],
      ['90 % is still a warning', { h1: { docker_disk_space_percent: 90 } }, [disk('h1', 90, 'warning', 'Host h1 is reporting a Docker disk space utilization of 90%!')]],
      ['91 % is an error', { h1: { docker_disk_space_percent: 91 } }, [disk('h1', 91, 'error', 'Host h1 is reporting a Docker disk space utilization of 91%!')]],
      ['a null percentage is an error', { h1: { docker_disk_space_percent: null } }, [disk('h1', null, 'error', 'Host h1 is not reporting the Docker disk space utilization %!')]],
      ['a host missing from node_info is an error', {}, [disk('h1', null, 'error', 'Host h1 is not reporting the Docker disk space utilization %!')]],
    ];
    for (const [title, usage, expected] of cases) it(title, () => expect(diskEvents('tok', ['h1'], usage)).to.deep.equal(expected));

    it('each host of the cluster is judged; hosts node_info names but the cluster does not are ignored', () => {
      const events = diskEvents('tok', ['h1', 'h2'], { h1: { docker_disk_space_percent: 10 }, h2: { docker_disk_space_percent: 95 }, stray: { docker_disk_space_percent: 99 } });
      expect(events.map((e) => [e.data.hostname, e.severity])).to.deep.equal([['h2', 'error']]);
    });
  });

  describe('units', () => {
    it('failed units are those whose active state is failed, each once', () => {
      expect(failedUnitsOf([state('a@0.service', 'active'), state('b@0.service', 'failed'), state('b@0.service', 'failed'), state('c@0.service', 'inactive')])).to.deep.equal(['b@0.service']);
    });

    it('a suspect that recovered by the recheck raises nothing; one still failed stays', () => {
      expect(stillFailed(['a', 'b'], [state('a', 'active'), state('b', 'failed')])).to.deep.equal(['b']);
      expect(stillFailed(['a'], [])).to.deep.equal([]);
    });

    it('one warning per failed unit, worded as the original', () => {
      expect(failedUnitEvents('tok', ['b@0.service'])).to.deep.equal([
        { unique: true, type: 'failed_unit', severity: 'warning', data: { unit_name: 'b@0.service', etcd_token: 'tok' }, message: 'Unit b@0.service is in a failed state!' },
      ]);
    });

    it('no unit states: a failed_unit warning', () => {
      expect(unitStatesMissingEvent('tok')).to.deep.equal({ unique: true, type: 'failed_unit', severity: 'warning', data: { etcd_token: 'tok' }, message: 'EtcdCluster tok failed to return unit states!' });
    });
  });
});
