import { expect } from 'chai';
import {
  Envelope,
  amqpPropertiesFor,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
} from '../../../../runtime/messaging/core/envelope.js';

const NOW = 1_435_088_351_000; // Tue, 23 Jun 2015 19:39:11 GMT
const valid = { id: 'e-1', type: 'build.requested', sent_at: NOW, payload: { workflow_id: 'w-1' } };
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

function reasonOf(bytes: Buffer): string {
  const decoded = decodeEnvelope(bytes);
  if (decoded.ok) throw new Error('expected the envelope to be rejected');
  return decoded.reason;
}

describe('newEnvelope', () => {
  it('takes id and time from the caller and leaves absent optional keys out', () => {
    const env = newEnvelope('build.requested', { workflow_id: 'w-1' }, { id: 'e-1', now: NOW });
    expect(env).to.deep.equal(valid);
    expect(env).not.to.have.property('correlation_id');
    expect(env).not.to.have.property('reply_to');
  });

  it('sets correlation_id and reply_to when given', () => {
    const opts = { id: 'e-2', now: NOW, correlationId: 'c-9', replyTo: 'amq.rabbitmq.reply-to' };
    const env = newEnvelope('fleet.requested', null, opts);
    expect(env).to.deep.include({ correlation_id: 'c-9', reply_to: 'amq.rabbitmq.reply-to', payload: null });
  });
});

describe('encodeEnvelope / decodeEnvelope round trip', () => {
  const cases: Array<[string, Envelope]> = [
    ['minimal', valid],
    ['with correlation_id and reply_to', { ...valid, correlation_id: 'c-1', reply_to: 'replies.host-1' }],
    ['null payload', { ...valid, payload: null }],
    ['array payload', { ...valid, payload: [1, 'two', { three: [3] }] }],
    ['non-ASCII payload', { ...valid, payload: { message: 'Déploiement réussi ✓ 部署' } }],
    ['sent_at 0', { ...valid, sent_at: 0 }],
  ];
  for (const [title, env] of cases) {
    it(title, () => {
      const bytes = encodeEnvelope(env);
      expect(JSON.parse(bytes.toString('utf8'))).to.deep.equal(env);
      expect(decodeEnvelope(bytes)).to.deep.equal({ ok: true, envelope: env });
    });
  }

  it('reads a body that starts with a UTF-8 byte-order mark', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(valid)]);
    expect(decodeEnvelope(bytes)).to.deep.equal({ ok: true, envelope: valid });
  });

  it('drops unknown top-level keys instead of rejecting them (rolling upgrades)', () => {
    const decoded = decodeEnvelope(json({ ...valid, trace_id: 't-1' }));
    expect(decoded).to.deep.equal({ ok: true, envelope: valid });
  });

  const unsendable: Array<[string, Envelope, string]> = [
    ['empty type', { ...valid, type: '' }, 'field "type" must not be empty'],
    ['undefined payload', { ...valid, payload: undefined }, 'missing field "payload"'],
    ['fractional sent_at', { ...valid, sent_at: 1.5 }, 'field "sent_at" must be an integer'],
  ];
  for (const [title, env, reason] of unsendable) {
    it(`refuses to encode an envelope with ${title}`, () => {
      expect(() => encodeEnvelope(env)).to.throw(TypeError, reason);
    });
  }
});

describe('decodeEnvelope rejects with a readable reason', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['garbage bytes', Buffer.from([0xff, 0xfe, 0x00, 0x83]), 'message body is not valid UTF-8'],
    ['an Erlang term (the original wire format)', Buffer.from([0x83, 0x74, 0, 0, 0, 0]), 'not valid UTF-8'],
    ['empty body', Buffer.alloc(0), 'message body is empty'],
    ['whitespace body', Buffer.from('  \n'), 'message body is empty'],
    ['text that is not JSON', Buffer.from('hello world'), 'message body is not JSON ('],
    ['truncated JSON', Buffer.from('{"id":"e-1",'), 'message body is not JSON ('],
    ['a JSON array', json([valid]), 'message body is JSON but not an envelope object (got array)'],
    ['a JSON string', json('build.requested'), 'not an envelope object (got string)'],
    ['JSON null', json(null), 'not an envelope object (got null)'],
    ['a JSON number', json(42), 'not an envelope object (got number)'],
    ['an empty object', json({}), 'missing field "id"; missing field "type"; missing field "sent_at"; missing field "payload"'],
    ['no payload', json({ id: 'e', type: 't', sent_at: 1 }), 'envelope is invalid: missing field "payload"'],
    ['sent_at as a date string', json({ ...valid, sent_at: '2015-06-23' }), 'field "sent_at" must be a number, got string'],
    ['negative sent_at', json({ ...valid, sent_at: -1 }), 'field "sent_at" must be >= 0'],
    ['numeric id', json({ ...valid, id: 7 }), 'field "id" must be a string, got number'],
    ['empty id', json({ ...valid, id: '' }), 'field "id" must not be empty'],
    ['null correlation_id', json({ ...valid, correlation_id: null }), 'field "correlation_id" must be a string, got null'],
    ['object reply_to', json({ ...valid, reply_to: { queue: 'q' } }), 'field "reply_to" must be a string, got object'],
    [
      'type and sent_at both wrong',
      json({ ...valid, type: 3, sent_at: true }),
      'field "type" must be a string, got number; field "sent_at" must be a number, got boolean',
    ],
  ];
  for (const [title, bytes, reason] of cases) {
    it(title, () => expect(reasonOf(bytes)).to.include(reason));
  }

  it('keeps the reason short enough for a header', () => {
    const reason = reasonOf(Buffer.from(`{"id": ${'9'.repeat(5000)}`));
    expect(reason.length).to.be.at.most(500);
  });

  it('never throws, whatever the bytes', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const bytes = Buffer.from(Array.from({ length: seed % 40 }, (_, i) => (seed * 31 + i * 17) % 256));
      expect(() => decodeEnvelope(bytes)).not.to.throw();
    }
  });
});

describe('decodeEnvelope and encodeEnvelope accept exactly what the schema accepts', () => {
  const fields: Record<string, unknown[]> = {
    id: ['e-1', '', 7, null, undefined],
    type: ['build.requested', '', 3, undefined],
    sent_at: [0, NOW, -1, 1.5, 2 ** 53, '1', null, undefined],
    correlation_id: ['c-1', '', null, 4, undefined],
    reply_to: ['replies', '', {}, undefined],
    payload: [{ n: 1 }, null, 0, '', [], undefined],
  };
  const variants: Array<Record<string, unknown>> = [];
  for (const [field, values] of Object.entries(fields)) {
    for (const value of values) variants.push({ ...valid, [field]: value });
  }
  for (const variant of variants) {
    const title = JSON.stringify(variant, (_k, v: unknown) => (v === undefined ? '<absent>' : v));
    it(title, () => {
      // Received: the schema judges what the bytes carry (JSON drops a key whose value is undefined).
      const sent: unknown = JSON.parse(JSON.stringify(variant));
      const decoded = decodeEnvelope(json(variant));
      expect(decoded.ok, decoded.ok ? 'accepted' : decoded.reason).to.equal(Envelope.safeParse(sent).success);
      // Sent: the schema judges the object itself.
      const schema = Envelope.safeParse(variant);
      const encode = () => encodeEnvelope(variant as unknown as Envelope);
      if (schema.success) expect(JSON.parse(encode().toString('utf8'))).to.deep.equal(JSON.parse(JSON.stringify(schema.data)));
      else expect(encode).to.throw(TypeError, 'cannot encode envelope: ');
    });
  }
});

describe('amqpPropertiesFor', () => {
  it('is persistent JSON with the ids mirrored, and a timestamp in seconds', () => {
    const env = { ...valid, correlation_id: 'c-1', reply_to: 'replies' };
    expect(amqpPropertiesFor(env)).to.deep.equal({
      persistent: true,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      messageId: 'e-1',
      type: 'build.requested',
      timestamp: 1_435_088_351,
      correlationId: 'c-1',
      replyTo: 'replies',
    });
  });

  it('leaves correlationId, replyTo and mandatory out when the envelope and the caller have none', () => {
    const props = amqpPropertiesFor(valid);
    expect(props).not.to.have.property('correlationId');
    expect(props).not.to.have.property('replyTo');
    expect(props).not.to.have.property('mandatory');
  });

  it('is transient or mandatory when the caller says so', () => {
    expect(amqpPropertiesFor(valid, { persistent: false })).to.include({ persistent: false, messageId: 'e-1' });
    expect(amqpPropertiesFor(valid, { mandatory: true })).to.include({ persistent: true, mandatory: true });
    expect(amqpPropertiesFor(valid, { mandatory: false })).to.include({ mandatory: false });
  });
});
