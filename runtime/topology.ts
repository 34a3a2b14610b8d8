import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { MessagingMetadata } from './messaging/core/routing.js';
import type { AnyIntake } from './messaging/intake.js';
import type { Logger } from './logger.js';
import { ACTOR_MODES, DEFAULT_BACKOFF, DEFAULT_INTENSITY, type ActorChildSpec, type SupervisorSpec, type Watchdog } from './actors/supervisor-spec.js';

/** A topology file (`deploy/topologies/*.json`): which components this process runs, and how (design §9). */

export class TopologyError extends Error {
  override readonly name = 'TopologyError';
  readonly retryable = false;
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`topology ${file} is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const Mode = z.enum(ACTOR_MODES, {
  error: (issue) =>
    `${JSON.stringify(issue.input)} is not a supported mode; use "in-memory" or "forked" ` +
    '(threaded crashes the parent process; remote runs code sent by anyone)',
});

const Component = z.strictObject({
  /** A component of the composition root's catalogue (actors/system.ts). */
  name: z.string().min(1),
  mode: Mode.default('in-memory'),
  /** JSON arguments handed to the component's behaviour. */
  args: z.record(z.string(), z.unknown()).optional(),
});

const Restarts = z.strictObject({
  max_restarts: z.number().int().nonnegative().default(DEFAULT_INTENSITY.maxRestarts),
  within_ms: z.number().int().positive().default(DEFAULT_INTENSITY.withinMs),
  backoff_initial_ms: z.number().int().nonnegative().default(DEFAULT_BACKOFF.initialMs),
  backoff_max_ms: z.number().int().nonnegative().default(DEFAULT_BACKOFF.maxMs),
});

export const TopologyFile = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    transport: z.enum(['in-memory', 'amqp']).default('in-memory'),
    restarts: Restarts.default(Restarts.parse({})),
    components: z.array(Component),
  })
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.components.forEach((c, i) => {
      if (seen.has(c.name)) ctx.issues.push({ code: 'custom', path: ['components', i, 'name'], message: `duplicate component "${c.name}"`, input: c.name });
      seen.add(c.name);
    });
  });
export type Topology = z.infer<typeof TopologyFile>;

const pathOf = (path: readonly PropertyKey[]): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(file)';

/** Parses a topology file's text; every problem names its field, e.g. `components[1].mode: ...`. */
export function parseTopology(text: string, file: string): Topology {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TopologyError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  const parsed = TopologyFile.safeParse(json);
  if (!parsed.success) throw new TopologyError(file, parsed.error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`));
  return parsed.data;
}

/** Loads `deploy/topologies/<name>.json`, or the file at `nameOrPath` when it is a path. */
export async function loadTopology(nameOrPath: string, dir: string): Promise<Topology> {
  const file = nameOrPath.endsWith('.json') || isAbsolute(nameOrPath) ? nameOrPath : join(dir, `${nameOrPath}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TopologyError(file, [`cannot read it: ${(err as Error).message}`]);
  }
  return parseTopology(text, basename(file));
}

/** A component as the composition root (actors/system.ts) declares it: its behaviour and the queues it consumes. */
export interface ComponentEntry {
  /** An ActorDef of any protocol. */
  readonly actor: ActorChildSpec['actor'];
  /**
   * The queues it consumes, each into a topic of its actor with a declared concurrency (the only consumers); a
   * function when the concurrency is configured (of the component's arguments, as `configure` made them).
   */
  readonly intake?: readonly AnyIntake[] | ((args: Readonly<Record<string, unknown>>) => readonly AnyIntake[]);
  /**
   * Turns the process environment and the topology's `args` into the component's arguments, once, at the process
   * entry (style R19); the component then receives plain data, forked or not.
   */
  readonly configure?: (env: Readonly<Record<string, string | undefined>>, args: Readonly<Record<string, unknown>>) => Promise<object>;
  /**
   * This component owns the messaging tables (the Manager, issue 19 item 1): a process that runs it over AMQP takes
   * its messaging metadata from it, not over its own API. `bootstrap` reads them before the tree starts (the
   * transport opens first); once the actor runs, each refresh asks it `topic`.
   */
  readonly messagingMetadata?: {
    readonly bootstrap: (args: Readonly<Record<string, unknown>>, log: Logger) => Promise<MessagingMetadata>;
    readonly topic: string;
    /** For messages, `the Manager's database`, and the variable that points there. */
    readonly describe: string;
    readonly variable: string;
  };
}

/** The queues a component of a topology consumes, given its arguments. */
export function intakesOf(catalogue: Catalogue, component: Pick<Topology['components'][number], 'name' | 'args'>): readonly AnyIntake[] {
  const intake = catalogue[component.name]?.intake ?? [];
  return typeof intake === 'function' ? intake(component.args ?? {}) : intake;
}

/** Component name -> its entry. */
export type Catalogue = Readonly<Record<string, ComponentEntry>>;

/**
 * The supervision tree of a topology: root (one_for_one) -> one supervisor per component -> the component actor.
 * A component whose supervisor gives up is restarted by the root; the root gives up on the same intensity.
 */
export function topologySpec(topology: Topology, catalogue: Catalogue, watchdog: Watchdog, file = topology.name): SupervisorSpec {
  const problems = topology.components.flatMap((c, i) =>
    catalogue[c.name] ? [] : [`components[${i}].name: unknown component "${c.name}" (known: ${Object.keys(catalogue).join(', ') || 'none yet'})`],
  );
  if (problems.length > 0) throw new TopologyError(file, problems);
  const { restarts } = topology;
  const policy = {
    intensity: { maxRestarts: restarts.max_restarts, withinMs: restarts.within_ms },
    backoff: { initialMs: restarts.backoff_initial_ms, maxMs: restarts.backoff_max_ms, factor: 2 },
    watchdog,
  };
  return {
    strategy: 'one_for_one',
    ...policy,
    children: topology.components.map((c) => ({
      name: c.name,
      supervisor: {
        strategy: 'one_for_one',
        ...policy,
        children: [{ name: c.name, actor: catalogue[c.name]!.actor, args: c.args ?? {}, mode: c.mode }],
      },
    })),
  };
}
