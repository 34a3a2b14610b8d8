import { expect } from 'chai';
import { liveManager } from './harness.js';
import { isManagerApiError, managerClient } from '../../http/client/manager-client.js';
import { captureLogs } from '../helpers/log-capture.js';
import { recordingFetch, tokenRequests } from '../http/client/live-manager.js';
import { rejectionOf } from '../helpers/wait.js';

/** The client's stored-token option (`token`), which the CLI uses after `openaperture login`. */
describe('ManagerClient with a stored token', function () {
  this.timeout(60_000);
  const manager = liveManager();

  it('sends the token as is and never asks for one', async () => {
    const recorder = recordingFetch();
    const client = managerClient({ baseUrl: manager().baseUrl, token: manager().adminToken, log: captureLogs().log, fetch: recorder.fetch });
    await client.clusters.list();
    await client.workflows.list();
    expect(tokenRequests(recorder.sent)).to.deep.equal([]);
    expect(recorder.sent.map((r) => r.authorization)).to.deep.equal([`Bearer ${manager().adminToken}`, `Bearer ${manager().adminToken}`]);
  });

  it('a refused token is a 401 ManagerApiError after one request: there is nothing to refresh it with', async () => {
    const recorder = recordingFetch();
    const client = managerClient({ baseUrl: manager().baseUrl, token: 'forged.token.value', log: captureLogs().log, fetch: recorder.fetch });
    const err = await rejectionOf(client.clusters.list());
    expect(isManagerApiError(err) && err.status).to.equal(401);
    expect(recorder.sent).to.have.length(1);
  });
});
