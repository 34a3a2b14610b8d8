import { expect } from 'chai';
import { deadLetterPropertiesOf, deadLetteredError, deliveredPropertiesOf, replyAddressOf, type MessageProperties } from '../../../../runtime/messaging/core/delivery.js';
import { newEnvelope } from '../../../../runtime/messaging/core/envelope.js';

const NOW = 1_435_088_351_000;
const REASON = 'x-openaperture-reason';

describe('deadLetterPropertiesOf', () => {
  const cases: Array<[string, MessageProperties, Record<string, unknown>]> = [
    ['nothing set: the reason alone', {}, { headers: { [REASON]: 'bad' } }],
    [
      'every property kept, headers kept',
      { contentType: 'application/json', messageId: 'm-1', type: 't', timestamp: 1, correlationId: 'c', replyTo: 'r', deliveryMode: 1, priority: 3, appId: 'a', contentEncoding: 'utf-8', headers: { h: 1 } },
      { contentType: 'application/json', messageId: 'm-1', type: 't', timestamp: 1, correlationId: 'c', replyTo: 'r', deliveryMode: 1, priority: 3, appId: 'a', contentEncoding: 'utf-8', headers: { h: 1, [REASON]: 'bad' } },
    ],
    ['unset properties (as amqplib gives them) stay unset', { messageId: 'm-1', type: undefined, headers: undefined }, { messageId: 'm-1', headers: { [REASON]: 'bad' } }],
    [
      'expiration, user_id and CC moved into headers of their own',
      { expiration: '60000', userId: 'oa', headers: { CC: ['other'], h: 'x' } },
      { headers: { h: 'x', 'x-openaperture-original-expiration': '60000', 'x-openaperture-original-user-id': 'oa', 'x-openaperture-original-cc': ['other'], [REASON]: 'bad' } },
    ],
    ['a reason of an earlier dead-lettering is replaced', { headers: { [REASON]: 'old' } }, { headers: { [REASON]: 'bad' } }],
  ];
  for (const [name, original, expected] of cases) it(name, () => expect(deadLetterPropertiesOf(original, 'bad')).to.deep.equal(expected));
});

describe('replyAddressOf', () => {
  const request = newEnvelope('x.requested', null, { id: 'e-1', now: NOW, correlationId: 'c-1', replyTo: 'amq.rabbitmq.reply-to' });
  const plain = newEnvelope('x.sent', null, { id: 'e-2', now: NOW });
  const cases: Array<[string, MessageProperties, Parameters<typeof replyAddressOf>[1], unknown]> = [
    ['the property the broker rewrote wins over the envelope', { replyTo: 'amq.rabbitmq.reply-to.g1h2', correlationId: 'c-x' }, request, { replyTo: 'amq.rabbitmq.reply-to.g1h2', correlationId: 'c-1' }],
    ['the envelope when no property says', {}, request, { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c-1' }],
    ['an empty property is no address', { replyTo: '' }, request, { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c-1' }],
    ['bytes that are no envelope: the properties alone', { replyTo: 'q', correlationId: 'c-9' }, undefined, { replyTo: 'q', correlationId: 'c-9' }],
    ['nobody waits', {}, plain, undefined],
  ];
  for (const [name, properties, envelope, expected] of cases) it(name, () => expect(replyAddressOf(properties, envelope)).to.deep.equal(expected));
});

describe('deliveredPropertiesOf and deadLetteredError', () => {
  it('gives what a consumer sees of a published envelope: its ids, persistent, no headers', () => {
    const envelope = newEnvelope('x.requested', null, { id: 'e-1', now: NOW, correlationId: 'c-1', replyTo: 'r' });
    expect(deliveredPropertiesOf(envelope)).to.deep.equal({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      messageId: 'e-1',
      type: 'x.requested',
      timestamp: Math.floor(NOW / 1000),
      correlationId: 'c-1',
      replyTo: 'r',
      deliveryMode: 2,
      headers: {},
    });
  });

  it('tells a requester its request was dead-lettered, and not to retry it as it is', () => {
    expect(deadLetteredError('bad')).to.deep.equal({ name: 'DeadLettered', message: 'bad', retryable: false });
  });
});
