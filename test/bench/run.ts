import { benchActors } from './actors.bench.js';
import { formatResults } from './report.js';

/** `npm run bench`: every benchmark, each against its baseline measured in this same run. */
const results = await benchActors();
process.stdout.write(`${formatResults(results)}\n`);
process.exit(0);
