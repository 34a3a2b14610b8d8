import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * The embedded database's thread (database.ts): PGlite and its wire-protocol server, so that the engine's work runs
 * beside the Manager's event loop rather than on it. Posts `ready` (or the start's error), and on `stop` closes both
 * and posts `stopped`.
 */
const { dataDir, socketPath } = workerData as { readonly dataDir?: string; readonly socketPath: string };
const port = parentPort!;

function serve(): void {
  const db = dataDir === undefined ? new PGlite() : new PGlite(dataDir);
  // pglite-socket passes each connection's messages to the one session in turn, a transaction's to its owner only.
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 2 });
  server.start().then(
    () => port.postMessage({ type: 'ready' }),
    (err: unknown) => port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
  );
  port.on('message', (message: { type: string }) => {
    if (message.type !== 'stop') return;
    server
      .stop()
      .then(() => db.close())
      .finally(() => port.postMessage({ type: 'stopped' }));
  });
}

serve();
