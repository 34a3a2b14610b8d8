/** What can go wrong in the Overseer's own logic (style R8); the Manager client and the transport name theirs. */

/** The FleetManager answered something its protocol does not allow (actors/fleet-manager/messages.ts). */
export class FleetReplyError extends Error {
  override readonly name = 'FleetReplyError';
  readonly retryable = false;
  constructor(
    readonly action: string,
    readonly etcdToken: string,
    problems: readonly string[],
  ) {
    super(`the FleetManager's reply to ${action} for cluster ${etcdToken} is malformed: ${problems.join('; ')}`);
  }
}

/** A component's `upgrade_status` that the Overseer cannot follow (written by other hands, or corrupted). */
export class UpgradeStatusError extends Error {
  override readonly name = 'UpgradeStatusError';
  readonly retryable = false;
  constructor(
    readonly componentType: string,
    problems: readonly string[],
  ) {
    super(`upgrade_status of component ${componentType} is unusable: ${problems.join('; ')}`);
  }
}
