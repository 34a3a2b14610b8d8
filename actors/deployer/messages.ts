/**
 * The Deployer's contract with the rest of the platform (issue 7): it consumes orchestration requests
 * (actors/orchestrator/messages.ts) on `deployer` and `deploy_oa`, and marks every container it runs with these
 * labels, which is how the FleetManager and the Overseer find the platform's units on a host.
 */

/** Label keys on every container the Deployer runs. */
export const LABELS = {
  /** Marks the container as the platform's: `"true"`. */
  managed: 'io.openaperture.managed',
  cluster: 'io.openaperture.cluster',
  product: 'io.openaperture.product',
  unit: 'io.openaperture.unit',
  /** The instance index, `0`..`n-1`: the container is unit `<unit>@<instance>.service` to the FleetManager. */
  instance: 'io.openaperture.instance',
  commit: 'io.openaperture.commit',
  workflow: 'io.openaperture.workflow',
  /** JSON `{"<container port>": <host port>}`: the host ports the instance holds in its cluster. */
  ports: 'io.openaperture.ports',
} as const;

/** The Fleet-style unit name of an instance (reference §7.1: `<base>@<i>.service`). */
export const unitInstanceName = (unit: string, instance: number): string => `${unit}@${instance}.service`;

