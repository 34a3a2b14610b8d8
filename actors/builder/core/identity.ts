/**
 * What an image is built from, as its tag (issue 14 item 2; README "Image identity"): `<source sha>-<context hash>`,
 * the hash covering every file of the deployment repo that goes into the build context, the rendered Dockerfile
 * included. A Dockerfile-only change is a new tag, so it is built; the same inputs are the same tag, so they are not.
 */
import { createHash } from 'node:crypto';

/**
 * The deployment repo's files that describe the deployment to the platform, not the image: neither sent to Docker
 * nor hashed, so that a scale change (`fleet.json`, `units.json`) or new registry credentials (`docker.json`) need
 * no new image. Only at the repo's root, where the Builder reads them.
 */
export const DESCRIPTOR_FILES: readonly string[] = ['docker.json', 'source.json', 'etcd.json', 'cluster.json', 'fleet.json', 'units.json', 'units.json.eex'];

/** How many hex digits of the SHA-256 the tag carries (48 bits). */
export const CONTEXT_HASH_LENGTH = 12;

/** Git's file modes, which say what the build sees: a file, an executable file, a symbolic link. */
export type EntryMode = '100644' | '100755' | '120000';

export interface ContextEntry {
  /** Relative to the repo root, `/`-separated. */
  readonly path: string;
  readonly mode: EntryMode;
}

/** Byte order of the UTF-8 paths: the same on every host, whatever its locale. */
export const byPath = (a: ContextEntry, b: ContextEntry): number => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

/**
 * The context hash, fed one entry at a time in `byPath` order (so that a large file need not sit in memory beside the
 * others): SHA-256 over, per entry, its UTF-8 path, NUL, its mode, NUL, its length in bytes (decimal), NUL, its bytes
 * (a link's target for a symbolic link).
 */
export function contextHasher(): { add(entry: ContextEntry, content: Uint8Array): void; hex(): string } {
  const hash = createHash('sha256');
  return {
    add(entry, content) {
      hash.update(`${entry.path}\0${entry.mode}\0${content.byteLength}\0`);
      hash.update(content);
    },
    hex: () => hash.digest('hex').slice(0, CONTEXT_HASH_LENGTH),
  };
}

/** The image's tag: the source commit, then the hash of the deployment repo's part of the build context. */
export const imageTagOf = (sha: string, contextHash: string): string => `${sha}-${contextHash}`;
