import { expect } from 'chai';
import { messageIdHeader } from '../../../../actors/notifications/core/message-id.js';

describe('notifications core: the Message-ID of a message', () => {
  const DOT_ATOM_MSG_ID = /^<[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*>$/;

  const cases: Array<[string, string, string]> = [
    ['a completion e-mail id keeps its slash', 'workflow-completed-email/3f2c1a9e-0000-4000-8000-00000000002a', '<workflow-completed-email/3f2c1a9e-0000-4000-8000-00000000002a@openaperture>'],
    ['a dot, an at sign and a space are encoded', 'a.b@c d', '<a=2Eb=40c=20d@openaperture>'],
    ['an equals sign is encoded, so an encoded id cannot meet a plain one', 'a=40', '<a=3D40@openaperture>'],
    ['non-ASCII is encoded byte by byte (UTF-8)', 'é', '<=C3=A9@openaperture>'],
  ];
  for (const [what, id, header] of cases) {
    it(what, () => {
      expect(messageIdHeader(id)).to.equal(header);
      expect(header).to.match(DOT_ATOM_MSG_ID);
    });
  }

  it('the same id gives the same header, different ids different ones', () => {
    expect(messageIdHeader('m-1')).to.equal(messageIdHeader('m-1'));
    expect(new Set(['a@b', 'a=40b', 'a.b', 'a=2Eb'].map((id) => messageIdHeader(id))).size).to.equal(4);
  });
});
