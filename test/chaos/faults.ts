/**
 * The faults a trial injects, the test playing the process manager and the network: kill -9 of a platform process
 * (and a start of a new one), the primary RabbitMQ node away and back, PostgreSQL unreachable and back.
 */
import { sleep } from '../../runtime/core/promises.js';
import { ASSEMBLIES, type AssemblyName } from '../e2e/platform.js';
import { descendantsOf, processStat, type ProcessId } from '../helpers/processes.js';
import { rabbitApp } from '../helpers/rabbit.js';
import { services } from '../helpers/services.js';
import type { FaultKind, TrialPlan } from './plan.js';
import type { World } from './world.js';

/** The platform's processes at a moment: each assembly's pid and everything under it. */
export interface ProcessSnapshot {
  readonly assemblies: ReadonlyMap<AssemblyName, number>;
  readonly processes: readonly ProcessId[];
}

export function snapshotProcesses(world: World): ProcessSnapshot {
  const assemblies = new Map<AssemblyName, number>();
  const processes: ProcessId[] = [];
  for (const name of ASSEMBLIES) {
    const pid = world.platform.get(name).child.pid;
    if (pid === undefined) continue;
    assemblies.set(name, pid);
    const stat = processStat(pid);
    if (stat !== undefined) processes.push({ pid, startTicks: stat.startTicks, command: `${name} assembly` });
    processes.push(...descendantsOf(pid));
  }
  return { assemblies, processes };
}

/** The Builder's own process, forked by the build assembly (deploy/topologies/build.json: `"mode": "forked"`). */
export function forkedBuilder(world: World): ProcessId | undefined {
  const pid = world.platform.get('build').child.pid;
  if (pid === undefined) return undefined;
  return descendantsOf(pid).find((p) => p.command.includes('forked-actor-worker'));
}

const KILLED: Partial<Record<FaultKind, AssemblyName>> = { 'kill management': 'management', 'kill build': 'build', 'kill deploy': 'deploy' };

/**
 * Carries out the fault and the recovery (a process started again, the node or the database back); what it did.
 * `republish milestone` sends the workflow's last request of `milestone` again.
 */
export async function injectFault(world: World, plan: Pick<TrialPlan, 'fault' | 'downMs' | 'milestone'>, workflowId: string): Promise<string> {
  const { fault, downMs } = plan;
  const assembly = KILLED[fault];
  if (assembly !== undefined) {
    const victim = world.platform.get(assembly);
    const pid = victim.child.pid;
    await victim.kill();
    world.platform.start(assembly);
    return `SIGKILL pid ${pid ?? '?'}, started again`;
  }
  switch (fault) {
    case 'kill builder child': {
      const child = forkedBuilder(world);
      if (child === undefined) return 'no forked Builder process to kill';
      process.kill(child.pid, 'SIGKILL');
      return `SIGKILL forked Builder pid ${child.pid}`;
    }
    case 'broker failover': {
      const node = services().rabbit2Node;
      await rabbitApp(node, 'stop_app');
      await sleep(downMs);
      await rabbitApp(node, 'start_app');
      return `${node} stopped for ${(downMs / 1000).toFixed(1)} s`;
    }
    case 'republish milestone':
      return (await world.tap.republish(workflowId, plan.milestone)) ? `the ${plan.milestone} request sent again` : `no ${plan.milestone} request of the workflow to send again`;
    case 'database outage':
      world.db.drop();
      await sleep(downMs);
      world.db.restore();
      return `PostgreSQL unreachable for ${(downMs / 1000).toFixed(0)} s`;
    default:
      throw new Error(`no injection for ${fault}`);
  }
}
