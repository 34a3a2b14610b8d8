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

/** Where clients reach an authority: `http://<hostname>:<port>/`, without the `:80`. */
export const authorityUrl = (a: { readonly hostname: string; readonly port: number }): string => `http://${a.hostname}${a.port === 80 ? '' : `:${a.port}`}/`;

/**
 * The event-log lines a successful deploy ends with (issue 15): one per route address of its units, or one saying
 * it has none. `openaperture workflow run` reads them back (addressesReported) to print the app's URLs.
 */
const ANSWERS_AT = 'The app answers at ';
export const NO_ROUTE = 'The app has no address on the router: no unit declares a route (units.json "route": hostname and port)';
export const addressNotice = (url: string): string => `${ANSWERS_AT}${url}`;

/** The URLs a deploy reported in `eventLog`, in order, once each; `[]` when it reported none. */
export function addressesReported(eventLog: readonly string[]): string[] {
  const urls = eventLog.flatMap((line) => (line.includes(ANSWERS_AT) ? [line.slice(line.indexOf(ANSWERS_AT) + ANSWERS_AT.length).trim()] : []));
  return [...new Set(urls)];
}
