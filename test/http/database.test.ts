import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openDatabase, type Database } from '../../http/database.js';
import { captureLogs } from '../helpers/log-capture.js';

const run = promisify(execFile);
const DATABASE = new URL('../../http/database.ts', import.meta.url).pathname;

/** Opens the database at `dataDir` in a process of its own, as a second `npm start` would. */
async function openInAnotherProcess(dataDir: string): Promise<{ code: number; stderr: string }> {
  const script = `import { openDatabase } from ${JSON.stringify(DATABASE)};
    const db = await openDatabase({ kind: 'pglite', dataDir: ${JSON.stringify(dataDir)} }, { info() {}, warn() {}, error() {}, child() { return this; } });
    await db.close();`;
  try {
    await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const failed = err as { code?: number; stderr?: string };
    return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
  }
}

describe('Manager database: the embedded data directory', function () {
  this.timeout(120_000);
  let dir: string;
  let db: Database | undefined;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'oa-db-lock-'))));
  afterEach(async () => {
    await db?.close();
    db = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused to a second process, naming the pid that holds it, before the database is opened', async () => {
    const dataDir = join(dir, 'db');
    db = await openDatabase({ kind: 'pglite', dataDir }, captureLogs().log);
    const before = (await readdir(dataDir)).sort();
    const second = await openInAnotherProcess(dataDir);
    expect(second.code).to.not.equal(0);
    expect(second.stderr).to.include(`in use by process ${process.pid}`);
    expect(second.stderr).to.not.include('migration');
    expect((await readdir(dataDir)).sort()).to.deep.equal(before);
    expect(await db.read('select count(*)::int as n from products', [])).to.deep.equal([{ n: 0 }]);
  });

  it('is refused within the same process too, and free again once closed', async () => {
    const dataDir = join(dir, 'db');
    db = await openDatabase({ kind: 'pglite', dataDir }, captureLogs().log);
    const error = await openDatabase({ kind: 'pglite', dataDir }, captureLogs().log).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.name).to.equal('DataDirLocked');
    await db.close();
    db = await openDatabase({ kind: 'pglite', dataDir }, captureLogs().log);
    expect(await readFile(`${dataDir}.lock`, 'utf8')).to.equal(`${process.pid}\n`);
  });

  it('takes over a lock left by a process that has died', async () => {
    const dataDir = join(dir, 'db');
    const { stdout } = await run(process.execPath, ['-e', 'console.log(process.pid)']);
    await writeFile(`${dataDir}.lock`, stdout);
    db = await openDatabase({ kind: 'pglite', dataDir }, captureLogs().log);
    expect(await readFile(`${dataDir}.lock`, 'utf8')).to.equal(`${process.pid}\n`);
  });
});
