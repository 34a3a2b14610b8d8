import { benchActors } from './actors.bench.js';
import { benchManager } from './manager.bench.js';
import { formatResults, type BenchResult } from './report.js';
import { benchTransport } from './transport.bench.js';

/** `npm run bench`: every benchmark, each against its baseline measured in this same run. */
const results: BenchResult[] = await benchActors();
const amqpUrl = process.env.AMQP_URL;
if (amqpUrl) results.push(...(await benchTransport(amqpUrl)));
else process.stderr.write('!!!!! SKIPPED transport benchmarks: AMQP_URL is not set (eval "$(bash deploy/dev-services.sh)")\n');
const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl) results.push(...(await benchManager(databaseUrl)));
else process.stderr.write('!!!!! SKIPPED Manager HTTP benchmark: DATABASE_URL is not set (eval "$(bash deploy/dev-services.sh)")\n');
process.stdout.write(`${formatResults(results)}\n`);
process.exit(0);
