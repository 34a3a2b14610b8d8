import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute, findOr404 } from '../route.js';
import { IdParams } from '../schemas/common.js';
import { clusterJson, inUse, Text } from './clusters.js';
import { CloudProviderSchema, EtcdClusterSchema, type CloudProvider } from '../../entities/clusters.js';

/** Cloud providers (reference §3.10), with errors as every other route instead of the original's empty bodies. */

const MAX_CONFIGURATION_CHARS = 65_536;

const Configuration = z
  .record(z.string(), z.unknown())
  .refine((c) => JSON.stringify(c).length <= MAX_CONFIGURATION_CHARS, `must be at most ${MAX_CONFIGURATION_CHARS} characters as JSON`);

const ProviderBody = z.strictObject({ name: Text(), type: Text(), configuration: Configuration.nullable().optional() });
type ProviderBody = z.infer<typeof ProviderBody>;

/** Omitted fields keep their value: the original's PUT replaced them (compare reference §10.1 item 5). */
const ProviderPatch = z.strictObject({ name: Text().optional(), type: Text().optional(), configuration: Configuration.nullable().optional() });
type ProviderPatch = z.infer<typeof ProviderPatch>;

/** Stored JSON decoded; a value that is not JSON (hand-written rows) is shown as stored. */
function decodeConfiguration(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

// Decoded on every route; reference §3.10 decoded it on show only and listed the raw string.
const providerJson = (p: CloudProvider) => ({
  id: p.id,
  name: p.name,
  type: p.type,
  configuration: decodeConfiguration(p.configuration),
  inserted_at: p.inserted_at,
  updated_at: p.updated_at,
});

const encodeConfiguration = (c: Record<string, unknown> | null | undefined): string | null => (c == null ? null : JSON.stringify(c));

const providerOr404 = (em: EntityManager, id: number): Promise<CloudProvider> => findOr404(em, CloudProviderSchema, { id }, 'CloudProvider');

const list = defineRoute<BaseDeps, Record<string, never>, PageQuery>({
  method: 'get',
  path: '/cloud_providers',
  summary: 'List cloud providers',
  tag: 'cloud_providers',
  access: 'viewer',
  item: 'CloudProvider',
  query: PageQuery,
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, CloudProviderSchema, {}, query);
    return { status: 200, body: rows.map(providerJson), total };
  },
});

const show = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  method: 'get',
  path: '/cloud_providers/:id',
  summary: 'Show a cloud provider',
  tag: 'cloud_providers',
  access: 'viewer',
  item: 'CloudProvider',
  params: IdParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: providerJson(await providerOr404(em, params.id)) }),
});

const create = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, ProviderBody>({
  method: 'post',
  path: '/cloud_providers',
  summary: 'Create a cloud provider',
  tag: 'cloud_providers',
  access: 'admin',
  item: 'CloudProvider',
  body: ProviderBody,
  async handle({ body }, { em }) {
    const provider = em.create(CloudProviderSchema, { name: body.name, type: body.type, configuration: encodeConfiguration(body.configuration) });
    await em.flush();
    return { status: 201, location: `/cloud_providers/${provider.id}` };
  },
});

const update = defineRoute<BaseDeps, z.infer<typeof IdParams>, Record<string, never>, ProviderPatch>({
  method: 'put',
  path: '/cloud_providers/:id',
  summary: 'Update a cloud provider',
  tag: 'cloud_providers',
  access: 'admin',
  item: 'CloudProvider',
  params: IdParams,
  body: ProviderPatch,
  async handle({ params, body }, { em }) {
    const provider = await providerOr404(em, params.id);
    if (body.name !== undefined) provider.name = body.name;
    if (body.type !== undefined) provider.type = body.type;
    if (body.configuration !== undefined) provider.configuration = encodeConfiguration(body.configuration);
    await em.flush();
    return { status: 204, location: `/cloud_providers/${provider.id}` };
  },
});

/** Refused with 409 while clusters are hosted by it, where the original's foreign key gave a 500. */
const remove = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  method: 'delete',
  path: '/cloud_providers/:id',
  summary: 'Delete a cloud provider',
  tag: 'cloud_providers',
  access: 'admin',
  item: 'CloudProvider',
  params: IdParams,
  async handle({ params }, { em }) {
    const provider = await providerOr404(em, params.id);
    const hosted = await em.count(EtcdClusterSchema, { hosting_provider_id: provider.id });
    if (hosted > 0) throw inUse('CloudProvider', `CloudProvider ${provider.id} still hosts ${hosted} cluster(s); move or delete them first`);
    await em.nativeDelete(CloudProviderSchema, { id: provider.id });
    return { status: 204 };
  },
});

const clusters = defineRoute<BaseDeps, z.infer<typeof IdParams>, PageQuery>({
  method: 'get',
  path: '/cloud_providers/:id/clusters',
  summary: 'List the clusters a cloud provider hosts',
  tag: 'cloud_providers',
  access: 'viewer',
  item: 'CloudProvider',
  params: IdParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    await providerOr404(em, params.id);
    const { rows, total } = await findPage(em, EtcdClusterSchema, { hosting_provider_id: params.id }, query);
    return { status: 200, body: rows.map(clusterJson), total };
  },
});

export const cloudProviderRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [list, show, create, update, remove, clusters];
