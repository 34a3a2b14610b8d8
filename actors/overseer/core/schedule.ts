/** The `hourly` upgrade strategy (reference §8.3): each hourly component asks for an upgrade at a random moment of each hour. */

/** The wait before the next scheduled request: `random` in [0, 1) spread over the window. */
export function hourlyDelayMs(random: number, windowMs: number): number {
  if (!(random >= 0 && random < 1)) throw new RangeError(`random must be in [0, 1), got ${random}`);
  return Math.floor(random * windowMs);
}

export interface ScheduledComponent {
  readonly type: string;
  readonly upgrade_strategy: string;
  readonly status: string | null;
}

/**
 * Which types get a timer, and which lose theirs: an `hourly` component without one gets one (unless an upgrade is
 * under way: its monitor is busy with it); a timer of a type that is gone or no longer `hourly` is cancelled.
 */
export function planHourlyTimers(components: readonly ScheduledComponent[], scheduled: ReadonlySet<string>): { schedule: string[]; cancel: string[] } {
  const hourly = new Set(components.filter((c) => c.upgrade_strategy === 'hourly').map((c) => c.type));
  return {
    schedule: components.filter((c) => hourly.has(c.type) && c.status !== 'upgrade_in_progress' && !scheduled.has(c.type)).map((c) => c.type),
    cancel: [...scheduled].filter((type) => !hourly.has(type)),
  };
}
