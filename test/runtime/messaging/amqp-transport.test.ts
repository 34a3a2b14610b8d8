import { transportContract } from '../../contracts/transport.contract.js';
import { needs, services } from '../../helpers/services.js';
import { amqpHarness } from './amqp-harness.js';

describe('AMQP transport (RabbitMQ)', () => {
  needs('rabbitmq');
  transportContract('amqp', () => amqpHarness(services().amqpUrl));
});
