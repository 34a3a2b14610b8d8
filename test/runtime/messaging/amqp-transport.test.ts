import { expect } from 'chai';
import { connect } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { isPublishError } from '../../../runtime/messaging/transport.js';
import { transportContract } from '../../contracts/transport.contract.js';
import { needs, services } from '../../helpers/services.js';
import { rejectionOf } from '../../helpers/wait.js';
import { amqpHarness } from './amqp-harness.js';

describe('AMQP transport (RabbitMQ)', () => {
  needs('rabbitmq');
  transportContract('amqp', () => amqpHarness(services().amqpUrl));

  describe('with auto-declare off (reference §4.3)', () => {
    it('declares nothing, and refuses a publish nothing is bound to as unroutable', async () => {
      const harness = await amqpHarness(services().amqpUrl, { autoDeclare: false, publishTimeoutMs: 2_000 });
      const queue = `undeclared_${randomUUID().slice(0, 8)}`;
      const transport = await harness.make({ exchangeId: harness.exchanges.a });
      const raw = await connect(services().amqpUrl);
      const channel = await raw.createChannel();
      channel.on('error', () => undefined); // the failed checkQueue below closes this channel, as expected
      try {
        // The operator provisioned the exchange but bound nothing for this queue.
        await channel.assertExchange(harness.rootExchange, 'topic', { durable: true });
        const err = await rejectionOf(transport.publish({ exchangeId: harness.exchanges.a, queue }, 'ping.sent', { n: 1 }));
        expect(isPublishError(err), err.message).to.equal(true);
        expect(err.message).to.match(/unroutable: nothing is bound to exchange oa_test_\w+ with key test\.a\.undeclared_/);
        const check = await rejectionOf(channel.checkQueue(queue));
        expect(check.message).to.match(/NOT_FOUND/);
      } finally {
        await transport.close();
        await raw.close();
        await harness.cleanup();
      }
    });
  });
});
