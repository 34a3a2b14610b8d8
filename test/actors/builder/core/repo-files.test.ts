import { expect } from 'chai';
import { DockerJson, EtcdJson, FleetJson, parseOptionalFile, parseRepoFile, SourceJson, UnitsJson } from '../../../../actors/builder/core/repo-files.js';
import { changedRenders, renderTemplates } from '../../../../actors/builder/core/templates.js';

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
    ];
    for (const [file, text, schema, reason] of cases) expect(parseRepoFile(file, text, schema), `${file} ${text}`).to.deep.equal({ ok: false, reason });
    expect(parseRepoFile('docker.json', '{"docker_url": "127.0.0.1:5000/org/app"}', DockerJson)).to.deep.equal({ ok: true, value: { docker_url: '127.0.0.1:5000/org/app' } });
    expect(parseOptionalFile('fleet.json', undefined, FleetJson)).to.deep.equal({ ok: true, value: undefined });
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

  it('finds the rendered files that differ from the checkout', () => {
    const current: Record<string, string> = { Dockerfile: 'same', 'units.json': 'old' };
    const rendered = [
      { path: 'Dockerfile', content: 'same' },
      { path: 'units.json', content: 'new' },
      { path: 'install.sh', content: 'x' },
    ];
    expect(changedRenders(rendered, (p) => current[p]).map((f) => f.path)).to.deep.equal(['units.json', 'install.sh']);
  });
});
