import { expect } from 'chai';
import { ConfigError, parseEnv, RuntimeEnv } from '../../runtime/config.js';

describe('parseEnv(RuntimeEnv)', () => {
  it('applies defaults to an empty environment', () => {
    expect(parseEnv(RuntimeEnv, {})).to.deep.equal({
      OA_LOG_LEVEL: 'info',
      OA_ASK_TIMEOUT_MS: 30_000,
      OA_SHUTDOWN_DEADLINE_MS: 10_000,
      OA_WATCHDOG_INTERVAL_MS: 1_000,
      OA_WATCHDOG_TIMEOUT_MS: 3_000,
      OA_METRICS_ADDRESS: { host: '127.0.0.1', port: 9464 },
    });
  });

  it('reads numbers from strings', () => {
    expect(parseEnv(RuntimeEnv, { OA_ASK_TIMEOUT_MS: '1500' }).OA_ASK_TIMEOUT_MS).to.equal(1_500);
  });

  it('names every bad variable and its value', () => {
    let caught: unknown;
    try {
      parseEnv(RuntimeEnv, { OA_ASK_TIMEOUT_MS: 'soon', OA_LOG_LEVEL: 'loud', OA_WATCHDOG_TIMEOUT_MS: '-3' });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).to.have.length(3);
    expect(problems.find((p) => p.startsWith('OA_ASK_TIMEOUT_MS:'))).to.match(/expected a number \(got "soon"\)/);
    expect(problems.find((p) => p.startsWith('OA_LOG_LEVEL:'))).to.match(/\(got "loud"\)/);
    expect(problems.find((p) => p.startsWith('OA_WATCHDOG_TIMEOUT_MS:'))).to.match(/above 0 \(got "-3"\)/);
  });
});
