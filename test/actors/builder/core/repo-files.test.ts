import { expect } from 'chai';
import { DockerJson, EtcdJson, FleetJson, parseOptionalFile, parseRepoFile, SourceJson, UnitsJson } from '../../../../actors/builder/core/repo-files.js';
import { isTemplateCommitOf, renderTemplates, templateCommitMessage, templateVarsOf } from '../../../../actors/builder/core/templates.js';

describe('Builder core: deployment repo files', () => {
  it('reads each file, or says what is wrong with it, field by field', () => {
    const cases: Array<[string, string | undefined, Parameters<typeof parseRepoFile>[2], string]> = [
      ['docker.json', undefined, DockerJson, 'docker.json is missing from the deployment repo'],
      ['docker.json', '{"docker_url": 5}', DockerJson, 'docker.json: docker_url: must be a string'],
      ['docker.json', '{"docker_url": "127.0.0.1:5000/App"}', DockerJson, 'docker.json: docker_url: must be an image repository name such as registry:5000/org/app (lower case, no tag)'],
      ['docker.json', '{"docker_url": "a/b", "docker_registry_url": ""}', DockerJson, 'docker.json: docker_registry_url: must not be empty'],
      ['source.json', '{"source_repo": "x", "ref": "main"}', SourceJson, 'source.json: unknown field "ref"'],
      ['etcd.json', '{}', EtcdJson, 'etcd.json: token is required'],
      ['fleet.json', '{"instance_cnt": 1.5}', FleetJson, 'fleet.json: instance_cnt: must be a whole number'],
      ['units.json', '{"units": [{"name": "web", "ports": ["80"]}]}', UnitsJson, 'units.json: units[0].ports[0]: Invalid input: expected number, received string'],
      ['units.json', '{"units": [{"name": "web", "health": {"http": {"path": "health"}}}]}', UnitsJson, 'units.json: units[0].health.http.path: must start with /'],
      ['units.json', '[]', UnitsJson, 'units.json: Invalid input: expected object, received array'],
      ['units.json', '{"units": [{"name": "web", "route": {"hostname": "web.example.test", "port": 80}}]}', UnitsJson, 'units.json: units[0].route: a unit with a route needs a container port (ports)'],
      ['units.json', '{"units": [{"name": "web", "ports": [8080], "route": {"hostname": "web.example.test", "port": 80, "container_port": 9090}}]}', UnitsJson, "units.json: units[0].route.container_port: must be one of the unit's ports (8080)"],
      ['units.json', '{"units": [{"name": "web", "ports": [8080], "route": {"hostname": "web_1.example", "port": 80}}]}', UnitsJson, 'units.json: units[0].route.hostname: must be a DNS hostname (letters, digits, hyphens, dots)'],
      ['units.json', '{"units": [{"name": "web", "ports": [8080], "route": {"hostname": "web.example.test", "port": 80, "drain_seconds": -1}}]}', UnitsJson, 'units.json: units[0].route.drain_seconds: Too small: expected number to be >=0'],
    ];
    for (const [file, text, schema, reason] of cases) expect(parseRepoFile(file, text, schema), `${file} ${text}`).to.deep.equal({ ok: false, reason });
    expect(parseRepoFile('docker.json', '{"docker_url": "127.0.0.1:5000/org/app"}', DockerJson)).to.deep.equal({ ok: true, value: { docker_url: '127.0.0.1:5000/org/app' } });
    expect(parseOptionalFile('fleet.json', undefined, FleetJson)).to.deep.equal({ ok: true, value: undefined });
    const routed = parseRepoFile('units.json', '{"units": [{"name": "web", "ports": [8080, 9090], "route": {"hostname": "Web.Example.Test", "port": 80}}]}', UnitsJson);
    expect(routed, 'the hostname lower-cased, drain_seconds 30 unless given').to.deep.include({ ok: true });
    expect(routed.ok && routed.value.units[0]?.route).to.deep.equal({ hostname: 'web.example.test', port: 80, drain_seconds: 30 });
  });

  it('renders templates as EEx did: nothing escaped, line numbers on errors', () => {
    const vars = { commit_hash: 'abc123', timestamp: 'Sun, 22 Nov 2026 00:00:00 GMT' };
    const ok = renderTemplates([{ path: 'Dockerfile.eex', text: 'LABEL c=<%= commit_hash %> t="<%= timestamp %>" x=<%= "<&>" %>\n' }, { path: 'bin/run.sh.eex', text: 'echo <%= commit_hash %>' }], vars);
    expect(ok).to.deep.equal({
      ok: true,
      value: [
        { path: 'Dockerfile', content: 'LABEL c=abc123 t="Sun, 22 Nov 2026 00:00:00 GMT" x=<&>\n' },
        { path: 'bin/run.sh', content: 'echo abc123' },
      ],
    });
    expect(renderTemplates([{ path: 'a.eex', text: 'one\ntwo <%= nope %>' }], vars)).to.deep.equal({ ok: false, reason: 'a.eex line 2: nope is not defined' });
  });

  it("takes the variables from the workflow's inputs, never from the clock", () => {
    const committedAt = new Date('2020-02-03T04:05:06Z');
    const cases: Array<[string, Parameters<typeof templateVarsOf>, ReturnType<typeof templateVarsOf>]> = [
      ['the source commit time wins', [{ sha: 'abc', committedAt }, '2026-01-01T00:00:00Z'], { commit_hash: 'abc', timestamp: 'Mon, 03 Feb 2020 04:05:06 GMT' }],
      ['no source repo: the workflow start', [{ sha: 'v1', committedAt: undefined }, '2026-01-01T10:00:00.000Z'], { commit_hash: 'v1', timestamp: 'Thu, 01 Jan 2026 10:00:00 GMT' }],
      ['neither: no timestamp', [{ sha: 'v1', committedAt: undefined }, null], { commit_hash: 'v1' }],
      ['an unreadable start: no timestamp', [{ sha: 'v1', committedAt: undefined }, 'soon'], { commit_hash: 'v1' }],
    ];
    for (const [title, args, vars] of cases) expect(templateVarsOf(...args), title).to.deep.equal(vars);
    expect(renderTemplates([{ path: 'Dockerfile.eex', text: 'LABEL t=<%= timestamp %>\n' }], { commit_hash: 'v1' })).to.deep.equal({ ok: false, reason: 'Dockerfile.eex line 1: timestamp is not defined' });
  });

  it("commits a render with the original's subject and the workflow as a trailer", () => {
    const message = templateCommitMessage('abc', 'w-1');
    expect(message).to.equal('Deployment for commit abc\n\nOpenAperture-Workflow: w-1');
    expect(isTemplateCommitOf(message, 'w-1')).to.equal(true);
    expect(isTemplateCommitOf(message, 'w-2')).to.equal(false);
    expect(isTemplateCommitOf('Deployment for commit abc', 'w-1')).to.equal(false);
  });
});
