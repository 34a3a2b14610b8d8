/** What the rendered config holds besides the routes: where the proxy listens and talks, its timeouts and health checks. */

/** How HAProxy itself runs; every field is used by `renderConfig`, the health check also by `planChange`. */
export interface ProxySettings {
  /** Absolute path of the worker's Runtime API socket (`stats socket ... level admin`). */
  readonly statsSocket: string;
  /** Absolute path of the directory the TLS files are written to (certificate+key PEM per authority, crt-list per port). */
  readonly certDir: string;
  /** The IPv4 address every frontend binds (127.0.0.1 when only this machine's clients may reach it). */
  readonly bindAddress: string;
  readonly timeouts: {
    readonly connectMs: number;
    readonly clientMs: number;
    readonly serverMs: number;
    readonly httpRequestMs: number;
    readonly keepAliveMs: number;
  };
  /** The health check of every server: a TCP connect every `intervalMs`; `fall` failures mark it down, `rise` successes up. */
  readonly check: { readonly intervalMs: number; readonly fall: number; readonly rise: number };
  /** How long an old worker may keep finishing its connections after a reload before it is stopped. */
  readonly hardStopAfterMs: number;
}

/** A bad setting, named. */
export class ProxySettingsError extends Error {
  override readonly name = 'ProxySettingsError';
  readonly retryable = false;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
// sun_path holds 108 bytes with the terminating NUL.
const MAX_SOCKET_PATH_BYTES = 107;

/** The settings for a socket and a bind address, the rest at values fit for a delivery platform's HTTP apps. */
export function proxySettings(opts: Pick<ProxySettings, 'statsSocket' | 'certDir' | 'bindAddress'> & Partial<ProxySettings>): ProxySettings {
  const settings: ProxySettings = {
    timeouts: { connectMs: 5_000, clientMs: 60_000, serverMs: 60_000, httpRequestMs: 10_000, keepAliveMs: 10_000 },
    check: { intervalMs: 1_000, fall: 2, rise: 2 },
    hardStopAfterMs: 120_000,
    ...opts,
  };
  checkSettings(settings);
  return settings;
}

function checkSettings(s: ProxySettings): void {
  if (!s.statsSocket.startsWith('/') || /\s/.test(s.statsSocket)) {
    throw new ProxySettingsError(`statsSocket must be an absolute path without spaces, got ${JSON.stringify(s.statsSocket)}`);
  }
  if (!s.certDir.startsWith('/') || /\s/.test(s.certDir)) throw new ProxySettingsError(`certDir must be an absolute path without spaces, got ${JSON.stringify(s.certDir)}`);
  if (new TextEncoder().encode(s.statsSocket).length > MAX_SOCKET_PATH_BYTES) {
    throw new ProxySettingsError(`statsSocket is longer than a unix socket path may be (${MAX_SOCKET_PATH_BYTES} bytes): ${s.statsSocket}`);
  }
  if (!IPV4.test(s.bindAddress)) throw new ProxySettingsError(`bindAddress must be an IPv4 address, got ${JSON.stringify(s.bindAddress)}`);
  const positive: Array<[string, number]> = [
    ...Object.entries(s.timeouts).map(([k, v]): [string, number] => [`timeouts.${k}`, v]),
    ['check.intervalMs', s.check.intervalMs],
    ['check.fall', s.check.fall],
    ['check.rise', s.check.rise],
    ['hardStopAfterMs', s.hardStopAfterMs],
  ];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value <= 0) throw new ProxySettingsError(`${name} must be a positive integer, got ${value}`);
  }
}
