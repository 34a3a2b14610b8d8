import { expect } from 'chai';
import { elapsedSince, humanSeconds } from '../../../../actors/orchestrator/core/durations.js';
import { completionEmail, completionRecipients } from '../../../../actors/orchestrator/core/email.js';
import { ID, request } from './fixtures.js';

describe('durations (reference §5.3)', () => {
  const cases: Array<[number, string]> = [
    [0, '0 second(s)'],
    [59, '59 second(s)'],
    [60, '1 minute(s)'],
    [90, '2 minute(s)'],
    [3_599, '60 minute(s)'],
    [3_600, '1 hour(s)'],
    [86_399, '24 hour(s)'],
    [86_400, '1 day(s)'],
    [7 * 86_400, '1 week(s)'],
    [30 * 86_400, '4 week(s)'],
  ];
  for (const [seconds, text] of cases) it(`${seconds} s is ${text}`, () => expect(humanSeconds(seconds)).to.equal(text));
  it('is <unknown> without a start; a start in RFC 1123 is read too', () => {
    expect(elapsedSince(null, 0)).to.equal('<unknown>');
    expect(elapsedSince('not a date', 0)).to.equal('<unknown>');
    expect(elapsedSince('Tue, 23 Jun 2015 19:39:11 GMT', Date.parse('2015-06-23T19:42:11Z'))).to.equal('3 minute(s)');
  });
});

describe('completion e-mail (reference §9.3)', () => {
  const prefix = `[OA][${ID}][acme/shop_docker]`;
  const config = { email: { groups: { devs: ['a@x.com', 'b@x.com'] }, events: { on_workflow_completed: ['devs', 'ops@x.com', 'a@x.com'] } } };

  it('expands groups, each address once', () => expect(completionRecipients(config)).to.deep.equal(['a@x.com', 'b@x.com', 'ops@x.com']));
  it('is not sent when nobody asked', () => expect(completionEmail(request({ notifications_config: { email: {} } }), prefix, undefined)).to.equal(undefined));

  it('says SUCCEEDED with the commit and the UI link', () => {
    const email = completionEmail(request({ notifications_config: config, source_repo_git_ref: 'abc123' }), prefix, 'https://ui.example/');
    expect(email).to.deep.equal({
      prefix: `SUCCEEDED ${prefix}`,
      message: `Source Commit:\nacme/shop/commit/abc123\n\nFor more information, please see:\nhttps://ui.example/index.html#/oa/workflows/workflows/${ID}`,
      notifications: { email_addresses: ['a@x.com', 'b@x.com', 'ops@x.com'] },
    });
  });

  it('says FAILED, with the source repo or the deployment repo when that is all there is', () => {
    const failed = completionEmail(request({ notifications_config: config, workflow_error: true, source_repo_git_ref: null }), prefix, undefined);
    expect([failed?.prefix, failed?.message]).to.deep.equal([`FAILED - ${prefix}`, 'Source Repo:\nacme/shop']);
    const bare = completionEmail(request({ notifications_config: config, source_repo: null }), prefix, undefined);
    expect(bare?.message).to.equal('Deployment Repo:\nhttps://github.com/acme/shop_docker');
  });
});
