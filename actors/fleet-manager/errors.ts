/**
 * What the FleetManager answers instead of a reply (style R8: classified by `name` on the caller's side, since the
 * error crosses the broker as data). A host's own failure is the driver's DockerHostError, which names the host.
 */

/** Some hosts of the cluster could not answer; each is named, with what went wrong there. */
export class FleetHostsError extends Error {
  override readonly name = 'FleetHostsError';
  readonly retryable = true;
  constructor(
    readonly action: string,
    readonly etcdToken: string,
    readonly failures: ReadonlyArray<{ readonly host: string; readonly error: string }>,
    done?: string,
  ) {
    const hosts = failures.map((f) => f.error).join('; ');
    super(`${action} for cluster ${etcdToken}: ${failures.length} host(s) did not answer: ${hosts}${done ? ` (${done})` : ''}`);
  }
}

/** No host of the cluster has the unit (every host answered). The Manager answers 404 for it. */
export class UnitNotFoundError extends Error {
  override readonly name = 'UnitNotFound';
  readonly retryable = false;
  constructor(
    readonly unitName: string,
    readonly etcdToken: string,
  ) {
    super(`Unit ${unitName} was not found on any host of cluster ${etcdToken}`);
  }
}

/** The Manager does not know the cluster. */
export class ClusterNotFoundError extends Error {
  override readonly name = 'ClusterNotFound';
  readonly retryable = false;
  constructor(readonly etcdToken: string) {
    super(`EtcdCluster ${etcdToken} was not found`);
  }
}
