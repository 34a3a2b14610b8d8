import { expect } from 'chai';
import { openDatabase, type Database } from '../../http/database.js';
import { purgeRpcRequests } from '../../http/maintenance.js';
import { MessagingRpcRequestSchema } from '../../entities/messaging.js';
import { captureLogs } from '../helpers/log-capture.js';

describe('Manager maintenance', () => {
  let db: Database;
  before(async () => (db = await openDatabase({ kind: 'pglite' }, captureLogs().log)));
  after(() => db.close());

  it('purges RPC requests untouched for 24 hours, and keeps the rest', async () => {
    const em = db.fork();
    const now = new Date('2026-11-21T12:00:00Z');
    const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * 3_600_000);
    for (const [status, hours] of [['completed', 30], ['error', 24.5], ['in_progress', 23], ['not_started', 1]] as const) {
      em.create(MessagingRpcRequestSchema, { status, request_body: null, response_body: null, inserted_at: at(hours), updated_at: at(hours) });
    }
    await em.flush();
    expect(await purgeRpcRequests(db.fork(), now)).to.equal(2);
    const left = await db.fork().find(MessagingRpcRequestSchema, {}, { orderBy: { id: 'asc' } });
    expect(left.map((r) => r.status)).to.deep.equal(['in_progress', 'not_started']);
  });
});
