import { expect } from 'chai';
import { noRecipientReason, partitionAddresses, type Recipients } from '../../../../actors/notifications/core/addresses.js';

describe('notifications partitionAddresses', () => {
  const cases: Array<[string, string[], Recipients]> = [
    ['plain addresses pass', ['ops@example.com', 'a.b+tag@mail.example.org'], { valid: ['ops@example.com', 'a.b+tag@mail.example.org'], invalid: [] }],
    ['surrounding spaces are trimmed', ['  ops@example.com '], { valid: ['ops@example.com'], invalid: [] }],
    ['duplicates (any case) are sent once', ['Ops@Example.com', 'ops@example.com'], { valid: ['Ops@Example.com'], invalid: [] }],
    ['a group name never expanded is refused', ['devs'], { valid: [], invalid: ['devs'] }],
    ['no domain', ['ops@'], { valid: [], invalid: ['ops@'] }],
    ['no dot in the domain', ['ops@localhost'], { valid: [], invalid: ['ops@localhost'] }],
    ['two addresses in one string', ['a@example.com, b@example.com'], { valid: [], invalid: ['a@example.com, b@example.com'] }],
    ['a display name with brackets', ['Ops <ops@example.com>'], { valid: [], invalid: ['Ops <ops@example.com>'] }],
    ['two @', ['a@b@example.com'], { valid: [], invalid: ['a@b@example.com'] }],
    ['a one-letter top-level domain', ['a@example.c'], { valid: [], invalid: ['a@example.c'] }],
    ['empty', [''], { valid: [], invalid: [''] }],
    ['mixed: the valid ones kept, in order', ['x', 'b@example.com', 'a@example.com'], { valid: ['b@example.com', 'a@example.com'], invalid: ['x'] }],
  ];
  for (const [name, given, expected] of cases) {
    it(name, () => expect(partitionAddresses(given)).to.deep.equal(expected));
  }
});

describe('notifications noRecipientReason', () => {
  it('says the list was empty', () => {
    expect(noRecipientReason({ valid: [], invalid: [] })).to.equal('the e-mail has no recipients (notifications.email_addresses is empty)');
  });
  it('names every invalid address', () => {
    expect(noRecipientReason({ valid: [], invalid: ['devs', 'ops@'] })).to.equal('the e-mail has no valid recipient; invalid: "devs", "ops@"');
  });
});
