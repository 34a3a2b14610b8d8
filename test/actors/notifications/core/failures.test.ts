import { expect } from 'chai';
import { httpFailure, smtpFailure, unreachable, type SmtpErrorFacts } from '../../../../actors/notifications/core/failures.js';

describe('notifications smtpFailure', () => {
  const cases: Array<[string, SmtpErrorFacts, boolean]> = [
    ['550 on RCPT (all recipients refused): permanent', { code: 'EENVELOPE', responseCode: 550, message: 'm' }, true],
    ['554 on DATA: permanent', { code: 'EMESSAGE', responseCode: 554, message: 'm' }, true],
    ['535 login refused: permanent', { code: 'EAUTH', responseCode: 535, message: 'm' }, true],
    ['451 try later on RCPT: transient', { code: 'EENVELOPE', responseCode: 451, message: 'm' }, false],
    ['421 service closing: transient', { code: 'EPROTOCOL', responseCode: 421, message: 'm' }, false],
    ['connection refused: transient', { code: 'ECONNECTION', message: 'm' }, false],
    ['timeout: transient', { code: 'ETIMEDOUT', message: 'm' }, false],
    ['socket closed: transient', { code: 'ESOCKET', message: 'm' }, false],
    ['TLS could not start: permanent', { code: 'ETLS', message: 'm' }, true],
    ['a self-signed certificate (ESOCKET): permanent', { code: 'ESOCKET', message: 'self-signed certificate' }, true],
    ['a certificate for another host: permanent', { code: 'ESOCKET', message: "Hostname/IP does not match certificate's altnames" }, true],
    ['an expired certificate: permanent', { code: 'ESOCKET', message: 'certificate has expired' }, true],
    ['login refused without a reply code: permanent', { code: 'EAUTH', message: 'm' }, true],
    ['no recipients before sending: permanent', { code: 'EENVELOPE', message: 'm' }, true],
    ['nothing known: transient (bounded anyway)', { message: 'm' }, false],
    ['a 2xx code on an error is not a verdict: by code', { code: 'ECONNECTION', responseCode: 250, message: 'm' }, false],
  ];
  for (const [name, facts, permanent] of cases) {
    it(name, () => expect(smtpFailure(facts)).to.deep.equal({ permanent, reason: facts.message }));
  }
});

describe('notifications httpFailure', () => {
  const cases: Array<[number, boolean]> = [
    [500, false],
    [502, false],
    [503, false],
    [429, false],
    [408, false],
    [400, true],
    [401, true],
    [403, true],
    [404, true],
    [410, true],
    [200, true],
  ];
  for (const [status, permanent] of cases) {
    it(`HTTP ${status} is ${permanent ? 'permanent' : 'transient'}`, () => expect(httpFailure(status, 'the webhook of room "Ops"').permanent).to.equal(permanent));
  }
  it('names the service and what was expected', () => {
    expect(httpFailure(200, 'HipChat room "Ops"', '204').reason).to.equal('HipChat room "Ops" answered HTTP 200 (expected 204)');
  });
  it('an unreachable service is transient and named', () => {
    expect(unreachable('the webhook of room "Ops"', 'ECONNREFUSED')).to.deep.equal({ permanent: false, reason: 'cannot reach the webhook of room "Ops": ECONNREFUSED' });
  });
});
