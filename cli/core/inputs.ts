import { CliError } from './errors.js';

/** The CLI's arguments checked and turned into request data. Pure; each refusal names its option. */

/** `--url`: where the Manager listens, without a trailing slash. */
export function managerUrl(text: string, option = '--url'): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`${option}: expected an http(s) URL such as http://127.0.0.1:4000 (got ${JSON.stringify(text)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`${option}: expected an http(s) URL (got ${JSON.stringify(text)})`);
  return url.toString().replace(/\/+$/, '');
}

/** `--milestones build,deploy`: the names, in order, each one the platform knows. */
export function milestoneList(text: string, known: readonly string[]): string[] {
  const names = text
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  if (names.length === 0) throw new CliError('--milestones: name at least one milestone');
  const unknown = names.find((m) => !known.includes(m));
  if (unknown !== undefined) throw new CliError(`--milestones: unknown milestone ${JSON.stringify(unknown)} (known: ${known.join(', ')})`);
  return names;
}

/** A whole number option (`--lookback 48`, `--limit 20`) within `min`..`max`. */
export function wholeNumber(text: string, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(text.trim())) throw new CliError(`${option}: expected a whole number (got ${JSON.stringify(text)})`);
  const n = Number(text);
  if (n < min || n > max) throw new CliError(`${option}: expected ${min}..${max} (got ${n})`);
  return n;
}

/** `--label zone=a`, repeated: the host's labels. */
export function labels(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new CliError(`--label: expected key=value (got ${JSON.stringify(pair)})`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** The units of a cluster that `name` means: the exact unit, or every instance `<name>@<n>.service` of it. */
export function unitsNamed<U extends { readonly name: string }>(units: readonly U[], name: string): U[] {
  const exact = units.filter((u) => u.name === name);
  if (exact.length > 0) return exact;
  return units.filter((u) => u.name.startsWith(`${name}@`) || u.name === `${name}.service`);
}

/** The values of a unit's option rows named `name` (the FleetManager's `X-Docker` `Port`, `Health`...), in order. */
export const unitOptionValues = (unit: { readonly options: ReadonlyArray<{ readonly name: string; readonly value: string }> }, name: string): string[] =>
  unit.options.filter((o) => o.name === name).map((o) => o.value);

/** `<authority>`: `hostname:port`, the port after the last colon. */
export function authoritySpec(text: string, argument = '<authority>'): { hostname: string; port: number } {
  const match = /^([^\s:/]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (match === null || match[1] === undefined || port < 1 || port > 65_535) {
    throw new CliError(`${argument}: expected hostname:port such as shop.example.com:80 (got ${JSON.stringify(text)})`);
  }
  return { hostname: match[1], port };
}
