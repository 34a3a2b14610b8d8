import { resolveExecutable } from '../../actors/router/config.js';
import { benchActors } from './actors.bench.js';
import { benchBuilder } from './builder.bench.js';
import { benchDeployer } from './deployer.bench.js';
import { benchManager } from './manager.bench.js';
import { benchOrchestrator } from './orchestrator.bench.js';
import { formatResults, type BenchResult } from './report.js';
import { benchRouter } from './router.bench.js';
import { benchTransport } from './transport.bench.js';

/** `npm run bench`: every benchmark, each against its baseline measured in this same run. */
const results: BenchResult[] = await benchActors();
const amqpUrl = process.env.AMQP_URL;
if (amqpUrl) results.push(...(await benchTransport(amqpUrl)));
else process.stderr.write('!!!!! SKIPPED transport benchmarks: AMQP_URL is not set (eval "$(bash deploy/dev-services.sh)")\n');
const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl) results.push(...(await benchManager(databaseUrl)));
else process.stderr.write('!!!!! SKIPPED Manager HTTP benchmark: DATABASE_URL is not set (eval "$(bash deploy/dev-services.sh)")\n');
if (process.env.OA_TEST_DOCKER_HOSTS) results.push(...(await benchDeployer()));
else process.stderr.write('!!!!! SKIPPED Deployer benchmarks: OA_TEST_DOCKER_HOSTS is not set (eval "$(bash deploy/dev-services.sh)")\n');
results.push(...(await benchOrchestrator(databaseUrl)));
// Found as the Router finds it (OA_TEST_HAPROXY first, as the proxy suites take it).
const haproxy = resolveExecutable(process.env.OA_TEST_HAPROXY ?? 'haproxy', process.env.PATH);
if (haproxy) results.push(...(await benchRouter(haproxy)));
else process.stderr.write('!!!!! SKIPPED router benchmarks: no haproxy (OA_TEST_HAPROXY is not set and none is on PATH or in sbin; apt-get install haproxy)\n');
if (amqpUrl && databaseUrl && process.env.OA_TEST_BASE_IMAGE) results.push(...(await benchBuilder()));
else process.stderr.write('!!!!! SKIPPED Builder benchmark: it needs AMQP_URL, DATABASE_URL, Docker and a registry (eval "$(bash deploy/dev-services.sh)")\n');
process.stdout.write(`${formatResults(results)}\n`);
process.exit(0);
