/**
 * The local stack's VAPID seed: what the stage's Secrets Manager secret is on AWS, kept in a file
 * beside the local signing key (`.herald/`, gitignored) so that browsers subscribed against one run
 * of `npm start` still receive pushes after a restart. Created on first use: 64 random characters,
 * as the CDK has Secrets Manager generate them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The seed in `file`, created (64 characters of base64url) when it does not exist yet. */
export async function loadVapidSecret(file: string): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(file), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  try {
    // `wx`: two stacks starting at once keep the one that was written first.
    await writeFile(file, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readFile(file, 'utf8')).trim();
  }
}
