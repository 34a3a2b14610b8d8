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

/** First host port of a cluster's allocation (design §2, reference §2.2 `etcd_cluster_ports`). */
export const FIRST_CLUSTER_PORT = 45_000;
