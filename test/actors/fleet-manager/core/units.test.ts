import { expect } from 'chai';
import { hostsNamed, machineOf, primaryIpOf, unitOf, unitOptions, unitStateOf, type UnitContainer } from '../../../../actors/fleet-manager/core/units.js';
import { Machine, Unit, UnitState } from '../../../../actors/fleet-manager/messages.js';

const container: UnitContainer = {
  unitName: 'web@0.service',
  host: 'docker-1',
  id: 'f'.repeat(64),
  image: '127.0.0.1:5000/hello:abc',
  state: 'exited',
  exitCode: 2,
  health: 'none',
  command: ['sh', '-c', 'serve'],
  env: ['PATH=/bin', 'DB_PASSWORD=hunter2', 'EMPTY='],
  ports: [{ containerPort: '8080/tcp', hostPort: '45000' }],
};

describe('FleetManager core: reply rows', () => {
  const ips: Array<[string, string]> = [
    ['unix:///var/run/docker.sock', '127.0.0.1'],
    ['tcp://10.0.0.5:2376', '10.0.0.5'],
    ['tcp://[::1]:2376', '::1'],
    ['ssh://core@docker-2.example.com:2222', 'docker-2.example.com'],
  ];
  for (const [url, ip] of ips) it(`primaryIP of ${url} is ${ip}`, () => expect(primaryIpOf(url)).to.equal(ip));

  it('a machine is the host: name, address, labels as metadata (reference §7.3 shape)', () => {
    const m = machineOf({ name: 'docker-1', docker_url: 'ssh://core@10.0.0.6', labels: { zone: 'a' } });
    expect(m).to.deep.equal({ id: 'docker-1', primaryIP: '10.0.0.6', metadata: { zone: 'a' } });
    expect(Machine.safeParse(m).success).to.equal(true);
  });

  it('options describe image, health, command, ports and environment names, never environment values', () => {
    expect(unitOptions(container)).to.deep.equal([
      { section: 'X-Docker', name: 'Image', value: '127.0.0.1:5000/hello:abc' },
      { section: 'X-Docker', name: 'Health', value: container.health },
      { section: 'Service', name: 'ExecStart', value: 'sh -c serve' },
      { section: 'X-Docker', name: 'Port', value: '45000:8080/tcp' },
      { section: 'Service', name: 'Environment', value: 'PATH' },
      { section: 'Service', name: 'Environment', value: 'DB_PASSWORD' },
      { section: 'Service', name: 'Environment', value: 'EMPTY' },
    ]);
    expect(JSON.stringify(unitOf(container))).to.not.include('hunter2');
  });

  it('a unit: desired launched, current from the container, machine = host (reference §7.3 shape)', () => {
    const unit = unitOf(container);
    expect(unit).to.deep.include({ name: 'web@0.service', desiredState: 'launched', currentState: 'inactive', machineID: 'docker-1' });
    expect(Unit.safeParse(unit).success).to.equal(true);
  });

  it('a unit state: the container id as hash, exit 2 -> failed/failed', () => {
    const s = unitStateOf(container);
    expect(s).to.deep.equal({ name: 'web@0.service', hash: 'f'.repeat(64), machineID: 'docker-1', systemdLoadState: 'loaded', systemdActiveState: 'failed', systemdSubState: 'failed' });
    expect(UnitState.safeParse(s).success).to.equal(true);
  });

  describe('hostsNamed (node_info nodes)', () => {
    const hosts = [
      { name: 'a', docker_url: 'tcp://10.0.0.1:2375', labels: {} },
      { name: 'b', docker_url: 'ssh://core@10.0.0.2', labels: {} },
    ];
    const table: Array<[string[] | undefined, string[]]> = [
      [undefined, ['a', 'b']],
      [['b'], ['b']],
      [['10.0.0.1'], ['a']],
      [['nope'], []],
      [[], []],
    ];
    for (const [nodes, names] of table) it(`${JSON.stringify(nodes)} -> ${JSON.stringify(names)}`, () => expect(hostsNamed(hosts, nodes).map((h) => h.name)).to.deep.equal(names));
  });
});
