/** Real HTTP backends on 127.0.0.1 and real HAProxy instances in temp dirs, each cleaned up by `cleanUp()`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRoutingModel, type AuthorityTls, type RouteState, type RoutingModel } from '../../../runtime/haproxy/core/model.js';
import { proxySettings, type ProxySettings } from '../../../runtime/haproxy/core/settings.js';
import { HaproxyProcess } from '../../../runtime/haproxy/process.js';
import { haproxyBinary } from '../../helpers/services.js';

/** A node:http server answering its name: `/slow?ms=N` after N ms, `/fail` with 500, `/header/<name>` that request header, anything else at once. */
export interface Backend {
  readonly name: string;
  readonly port: number;
  /** Requests it has received. */
  hits: number;
  close(): Promise<void>;
}

export async function startBackend(name: string): Promise<Backend> {
  const backend = { name, port: 0, hits: 0, close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    backend.hits += 1;
    const url = new URL(req.url ?? '/', 'http://backend');
    if (url.pathname === '/fail') {
      res.statusCode = 500;
      res.end(`${name} failed`);
    } else if (url.pathname.startsWith('/header/')) res.end(String(req.headers[url.pathname.slice('/header/'.length)] ?? ''));
    else if (url.pathname === '/slow') setTimeout(() => res.end(name), Number(url.searchParams.get('ms') ?? '1000'));
    else res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return backend;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One GET on a new connection to 127.0.0.1:`port` with the given Host header. */
export function get(port: number, host: string, path = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export const route = (backend: Backend, weight = 10, state: RouteState = 'ready') => ({ host: '127.0.0.1', port: backend.port, weight, state });

export const modelOf = (...authorities: Array<{ hostname: string; port: number; routes: ReturnType<typeof route>[]; tls?: AuthorityTls; redirectHttpPort?: number }>): RoutingModel =>
  parseRoutingModel({ authorities });

/** Starts proxies and backends for one suite; `cleanUp()` stops every proxy and backend and removes the temp dirs. */
export class Harness {
  private readonly proxies: HaproxyProcess[] = [];
  private readonly backends: Backend[] = [];
  private readonly dirs: string[] = [];

  newDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'oa-haproxy-'));
    this.dirs.push(dir);
    return dir;
  }

  settingsFor(dir: string, overrides: Partial<ProxySettings> = {}): ProxySettings {
    return proxySettings({ statsSocket: join(dir, 'admin.sock'), certDir: join(dir, 'certs'), bindAddress: '127.0.0.1', check: { intervalMs: 500, fall: 2, rise: 1 }, ...overrides });
  }

  async proxy(model: RoutingModel, dir = this.newDir()): Promise<HaproxyProcess> {
    const proxy = await HaproxyProcess.start({ binary: haproxyBinary(), dir, settings: this.settingsFor(dir) }, model);
    this.proxies.push(proxy);
    return proxy;
  }

  async backend(name: string): Promise<Backend> {
    const backend = await startBackend(name);
    this.backends.push(backend);
    return backend;
  }

  async cleanUp(): Promise<void> {
    await Promise.all(this.proxies.splice(0).map((p) => p.stop()));
    await Promise.all(this.backends.splice(0).map((b) => b.close()));
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
