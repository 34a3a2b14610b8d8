import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { NOT_LOGGED_IN, parseCredentials, type StoredCredentials } from './core/credentials.js';
import { CliError } from './core/errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** `$OA_CONFIG_DIR/credentials.json`, or `~/.config/openaperture/credentials.json`. */
export const credentialsPath = (env: Env): string =>
  join(env.OA_CONFIG_DIR !== undefined && env.OA_CONFIG_DIR !== '' ? env.OA_CONFIG_DIR : join(homedir(), '.config', 'openaperture'), 'credentials.json');

export async function readCredentials(path: string): Promise<StoredCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(NOT_LOGGED_IN);
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseCredentials(text, path);
}

/** Writes the token readable by its owner only: it acts as the API client until it expires. */
export async function writeCredentials(path: string, credentials: StoredCredentials): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode applies only when it creates the file; an older file keeps its mode otherwise.
  await chmod(path, 0o600);
}

/** true when there was a file to remove. */
export async function removeCredentials(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
