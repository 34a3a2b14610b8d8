import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { checkCertificate, certificateMetadataOf } from '../core/certificates.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { defineRoute, findOr404, type AnyRoute } from '../route.js';
import { authorityOr404 } from './router.js';
import { IdParams } from '../schemas/common.js';
import { isSecretCorrupt, isSecretKeyMismatch, type SecretBox } from '../secrets.js';
import { AuthorityCertificateSchema, AuthoritySchema } from '../../entities/router.js';

/**
 * An authority's certificate (issue 15 item 3): set (checked, the key sealed at rest), shown (metadata only, never the
 * key) and removed; and the router's TLS feed, the one answer that holds opened keys, for admins only: the platform's
 * component clients are admins (design §2: secrets go only to admins), as for `/clusters/:token/host_connections`.
 * The body's key is `private_key`, so the audit trail redacts it (http/app.ts `redactSecrets`).
 */

export interface CertificateDeps extends BaseDeps {
  readonly secrets: SecretBox;
}

// A chain of a leaf and a few issuers is a few KB; a 4096-bit RSA key about 3.3 KB.
const CertificateBody = z.strictObject({
  certificate: z.string().min(1, 'must not be empty').max(65_536, 'at most 64 KiB of PEM'),
  private_key: z.string().min(1, 'must not be empty').max(16_384, 'at most 16 KiB of PEM'),
});
type CertificateBody = z.infer<typeof CertificateBody>;
type IdParams = z.infer<typeof IdParams>;
type Nothing = Record<string, never>;

const CertificateJson = z.object({
  authority_id: z.number().int(),
  subject: z.string(),
  issuer: z.string(),
  names: z.array(z.string()),
  not_before: z.string(),
  not_after: z.string(),
  fingerprint_sha256: z.string(),
  chain_length: z.number().int(),
  updated_at: z.date(),
});

/** One authority the router serves over TLS, or redirects to; `private_key` null with `problem` when it cannot be opened. */
const TlsItem = z.object({
  hostname: z.string(),
  port: z.number().int(),
  redirect_http_port: z.number().int().nullable(),
  certificate: z.string().nullable(),
  private_key: z.string().nullable(),
  problem: z.string().nullable(),
});

const C = { tag: 'router', item: 'Certificate' } as const;

const setCertificate = defineRoute<CertificateDeps, IdParams, Nothing, CertificateBody>({
  ...C, method: 'put', path: '/router/authorities/:id/certificate', summary: "Set an authority's certificate chain and private key (checked; the key sealed)",
  access: 'admin', params: IdParams, body: CertificateBody,
  async handle({ params, body }, { em, deps }) {
    const authority = await authorityOr404(em, params.id);
    const check = checkCertificate({ certificate: body.certificate, privateKey: body.private_key, hostname: authority.hostname, nowMs: Date.now() });
    if (!check.ok) throw new InvalidRequestError('Certificate', check.problems);
    const row = await em.findOne(AuthorityCertificateSchema, { authority_id: authority.id });
    const sealed = { certificate: body.certificate, private_key: deps.secrets.seal(body.private_key) };
    if (row === null) em.create(AuthorityCertificateSchema, { authority_id: authority.id, ...sealed });
    else Object.assign(row, sealed);
    // The feeds' `updated_since` reads the authority's `updated_at`.
    authority.updated_at = new Date();
    await em.flush();
    return { status: 204, location: `/router/authorities/${authority.id}/certificate` };
  },
});

const showCertificate = defineRoute<CertificateDeps, IdParams>({
  ...C, method: 'get', path: '/router/authorities/:id/certificate', summary: "Show an authority's certificate: subject, names, validity, fingerprint (never the key)",
  access: 'viewer', params: IdParams, response: CertificateJson,
  async handle({ params }, { em }) {
    const authority = await authorityOr404(em, params.id);
    const row = await findOr404(em, AuthorityCertificateSchema, { authority_id: authority.id }, 'Certificate');
    return { status: 200, body: { authority_id: authority.id, ...certificateMetadataOf(row.certificate), updated_at: row.updated_at } };
  },
});

const deleteCertificate = defineRoute<CertificateDeps, IdParams>({
  ...C, method: 'delete', path: '/router/authorities/:id/certificate', summary: "Remove an authority's certificate (the router serves it in plain HTTP again)",
  access: 'admin', params: IdParams,
  async handle({ params }, { em }) {
    const authority = await authorityOr404(em, params.id);
    const removed = await em.nativeDelete(AuthorityCertificateSchema, { authority_id: authority.id });
    if (removed === 0) throw new NotFoundError('Certificate');
    authority.updated_at = new Date();
    await em.flush();
    return { status: 204 };
  },
});

/** A key this Manager cannot open is named, not a 500: the other authorities' TLS goes on. */
function openKey(secrets: SecretBox, sealed: string): { key: string | null; problem: string | null } {
  try {
    return { key: secrets.open(sealed), problem: null };
  } catch (err) {
    if (isSecretCorrupt(err) || isSecretKeyMismatch(err)) return { key: null, problem: `the private key cannot be opened here: ${err.message}` };
    throw err;
  }
}

const tlsFeed = defineRoute<CertificateDeps>({
  ...C, method: 'get', path: '/router/tls', summary: "The router's TLS feed: every authority with a certificate or a redirect, keys opened (admins only)",
  access: 'admin', response: z.array(TlsItem),
  async handle(_input, { em, deps, log }) {
    const certificates = await em.find(AuthorityCertificateSchema, {}, { orderBy: { authority_id: 'asc' } });
    const byAuthority = new Map(certificates.map((c) => [c.authority_id, c]));
    const authorities = await em.find(AuthoritySchema, { $or: [{ id: { $in: [...byAuthority.keys()] } }, { redirect_http_port: { $ne: null } }] }, { orderBy: { id: 'asc' } });
    const body = authorities.map((a) => {
      const row = byAuthority.get(a.id);
      const opened = row === undefined ? { key: null, problem: null } : openKey(deps.secrets, row.private_key);
      if (opened.problem !== null) log.warn({ authority: `${a.hostname}:${a.port}`, problem: opened.problem }, 'an authority is served without TLS material');
      return { hostname: a.hostname, port: a.port, redirect_http_port: a.redirect_http_port, certificate: row?.certificate ?? null, private_key: opened.key, problem: opened.problem };
    });
    return { status: 200, body };
  },
});

/** `/router/tls` is a literal path: no `:id` route of the router tables matches it. */
export const routerCertificateRoutes: ReadonlyArray<AnyRoute<CertificateDeps>> = [tlsFeed, setCertificate, showCertificate, deleteCertificate];
