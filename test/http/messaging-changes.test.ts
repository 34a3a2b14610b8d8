import { expect } from 'chai';
import { loadMessagingMetadata } from '../../http/messaging-metadata.js';
import type { AnyRoute } from '../../http/route.js';
import { brokerRoutes } from '../../http/routes/messaging-brokers.js';
import { exchangeRoutes } from '../../http/routes/messaging-exchanges.js';
import { MESSAGING_CHANGED_QUEUE, type MessagingChanged } from '../../runtime/messaging/messaging-changed.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from './harness.js';
import { captureLogs } from '../helpers/log-capture.js';
import { waitFor } from '../helpers/wait.js';

const routes = [...brokerRoutes, ...exchangeRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;

/** What each exchange's processes heard: their own copy of every `messaging_changed` (a broadcast consumer). */
async function listen(h: ApiHarness, exchangeId: number): Promise<string[]> {
  const heard: string[] = [];
  await h.broker.transport({ exchangeId, log: captureLogs().log }).consume({
    queue: MESSAGING_CHANGED_QUEUE,
    broadcast: true,
    decode: (p) => ({ ok: true, value: p as MessagingChanged }),
    handle: async ({ change }) => (heard.push(change), { type: 'ack' }),
  });
  return heard;
}

/** Issue 19 item 1: every committed change of the messaging tables is broadcast into every exchange. */
forEachDatabase('Manager: messaging_changed after messaging changes', routes, (h) => {
  it('broadcasts each committed change into every exchange, and nothing for a refused one', async () => {
    const admin = h().tokens.admin;
    const [one, two] = [await listen(h(), 1), await listen(h(), 2)];
    /** One request; then what exchange 1 and exchange 2 heard of it (broadcasts go out after the answer). */
    const step = async (method: string, path: string, body: unknown, status: number) => {
      const [before1, before2] = [one.length, two.length];
      expect((await h().call(method, path, { token: admin, body })).status).to.equal(status);
      if (status >= 400) return [[], []];
      await waitFor(`the broadcast of ${method} ${path}`, () => one.length > before1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      return [one.slice(before1), two.slice(before2)];
    };
    // Exchange 1 is the only one when it is made; exchange 2 hears of changes from its own creation on.
    expect(await step('POST', '/messaging/exchanges', { name: 'root', routing_key_fragment: 'root' }, 201)).to.deep.equal([['POST /messaging/exchanges 1'], []]);
    expect(await step('POST', '/messaging/exchanges', { name: 'zone', routing_key_fragment: 'zone', parent_exchange_id: 1 }, 201)).to.deep.equal([
      ['POST /messaging/exchanges 2'],
      ['POST /messaging/exchanges 2'],
    ]);
    const both = (change: string) => [[change], [change]];
    expect(await step('POST', '/messaging/brokers', { name: 'primary' }, 201)).to.deep.equal(both('POST /messaging/brokers 1'));
    expect(await step('POST', '/messaging/brokers/1/connections', { username: 'u', password: 'p', host: 'rabbit' }, 201)).to.deep.equal(both('POST /messaging/brokers/:id/connections 1'));
    expect(await step('PUT', '/messaging/brokers/1', { name: 'primary', failover_broker_id: null }, 204)).to.deep.equal(both('PUT /messaging/brokers/:id 1'));
    expect(await step('POST', '/messaging/exchanges/2/brokers', { messaging_broker_id: 1 }, 201)).to.deep.equal(both('POST /messaging/exchanges/:id/brokers 2'));
    // Refused (409, 400): nothing committed, nothing said.
    await step('POST', '/messaging/brokers', { name: 'primary' }, 409);
    await step('POST', '/messaging/exchanges/2/brokers', { messaging_broker_id: 99 }, 400);
    expect(await step('DELETE', '/messaging/exchanges/2/brokers', undefined, 204)).to.deep.equal(both('DELETE /messaging/exchanges/:id/brokers 2'));
    expect([one.length, two.length]).to.deep.equal([7, 6]);
  });

  it("reads the Manager's own messaging metadata from its tables, passwords opened", async () => {
    const metadata = await loadMessagingMetadata(h().db.fork(), h().secrets);
    expect(metadata.exchanges.map((x) => x.name)).to.deep.equal(['root', 'zone']);
    expect(metadata.brokers).to.deep.equal([{ id: 1, name: 'primary', failover_broker_id: null }]);
    expect(metadata.connections).to.deep.equal([{ id: 1, messaging_broker_id: 1, username: 'u', password: 'p', host: 'rabbit', port: null, virtual_host: '/' }]);
    expect(metadata.restrictions).to.deep.equal([]);
  });
});
