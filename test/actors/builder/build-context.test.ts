import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hashBuildContext } from '../../../actors/builder/build-context.js';
import { imageTagOf } from '../../../actors/builder/core/identity.js';

describe("Builder: the hash of the deployment repo's build context (README \"Image identity\")", () => {
  let root: string;
  let n = 0;
  before(() => (root = mkdtempSync(join(tmpdir(), 'oa-build-context-'))));
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A checkout holding `files` (written in the order given); `+x` marks executables, `->` symbolic links. */
  const checkout = (files: ReadonlyArray<readonly [string, string]>): string => {
    const dir = join(root, `checkout-${++n}`);
    for (const [spec, content] of files) {
      const [path = '', flag] = spec.split(' ');
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      if (flag === '->') symlinkSync(content, join(dir, path));
      else writeFileSync(join(dir, path), content);
      if (flag === '+x') chmodSync(join(dir, path), 0o755);
    }
    return dir;
  };
  const base: ReadonlyArray<readonly [string, string]> = [
    ['Dockerfile', 'FROM x\nCOPY . /app\n'],
    ['bin/run.sh +x', 'echo run\n'],
    ['current ->', 'bin/run.sh'],
    ['sub/docker.json', '{"not": "a descriptor"}'],
    ['.git/config', '[core]\n'],
    ['sub/.git', 'gitdir: ../.git/modules/sub\n'],
    ['docker.json', '{"docker_url": "r/app"}'],
    ['units.json.eex', '{"units": []}'],
    ['fleet.json', '{"instance_cnt": 2}'],
  ];

  it('is SHA-256 over path, mode, length and bytes of each file in path order, without .git and the descriptor files', async () => {
    const sha = createHash('sha256');
    for (const [path, mode, content] of [
      ['Dockerfile', '100644', 'FROM x\nCOPY . /app\n'],
      ['bin/run.sh', '100755', 'echo run\n'],
      ['current', '120000', 'bin/run.sh'],
      ['sub/docker.json', '100644', '{"not": "a descriptor"}'],
    ] as const) {
      sha.update(`${path}\0${mode}\0${Buffer.byteLength(content)}\0${content}`);
    }
    expect(await hashBuildContext(checkout(base))).to.deep.equal({ hash: sha.digest('hex').slice(0, 12), files: 4 });
    expect(imageTagOf('0123abc', 'fedcba987654')).to.equal('0123abc-fedcba987654');
  });

  it('is the same for the same files, whatever the order they were written in, and changes with any of them', async () => {
    /** The base checkout with `path` replaced by `spec` (or removed). */
    const replaced = (path: string, spec?: string, content = '') => [...base.filter(([p]) => p.split(' ')[0] !== path), ...(spec === undefined ? [] : [[spec, content] as const])];
    const { hash } = await hashBuildContext(checkout(base));
    expect((await hashBuildContext(checkout([...base].reverse()))).hash, 'written in reverse').to.equal(hash);
    const variants: Record<string, ReadonlyArray<readonly [string, string]>> = {
      'a changed Dockerfile': replaced('Dockerfile', 'Dockerfile', 'FROM x\nRUN false\n'),
      'a file no longer executable': replaced('bin/run.sh', 'bin/run.sh', 'echo run\n'),
      'a renamed file': replaced('bin/run.sh', 'bin/start.sh +x', 'echo run\n'),
      'a link to elsewhere': replaced('current', 'current ->', 'Dockerfile'),
      'a removed file': replaced('sub/docker.json'),
      'a new file': [...base, ['extra.txt', '']],
    };
    for (const [title, files] of Object.entries(variants)) expect((await hashBuildContext(checkout(files))).hash, title).not.to.equal(hash);
    const descriptorsChanged = [...replaced('fleet.json', 'fleet.json', '{"instance_cnt": 5}').filter(([p]) => p !== 'docker.json'), ['etcd.json', '{"token": "t"}'] as const];
    expect((await hashBuildContext(checkout(descriptorsChanged))).hash, 'descriptor files changed, added, removed').to.equal(hash);
  });
});
