/**
 * The README is executable: its tour (every block marked `sh tour`, in order) runs in bash against
 * a local stack and must succeed, with no hard-coded date to go stale (nor in any other shell
 * example of the README or docs/, which readers copy as they are); every route the API
 * documents in /openapi.json is listed in the README's route tables, and nothing else is; `/`
 * points a newcomer to the docs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';
import { repoRoot, runInRepo } from '../unit/support/processes.ts';
import type { Run } from '../unit/support/processes.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** The bodies of the README's fenced blocks opened with ```` ```sh tour ````, in order. */
function tourBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh tour\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
}

/** `METHOD /path` of every route named in a README table row (query strings dropped). */
function routesInTables(markdown: string): Set<string> {
  const routes = new Set<string>();
  for (const line of markdown.split('\n').filter((l) => l.startsWith('|'))) {
    for (const match of line.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`?\s]*)[^`]*`/g)) routes.add(`${match[1]} ${match[2]}`);
  }
  return routes;
}

/**
 * Runs `script` with bash in strict mode, from the repository's root, `env` over this process's.
 * `--norc`: a bash whose stdin is a socket (Node's pipes are socket pairs) takes itself for one
 * started by sshd, and Debian's reads `/etc/bash.bashrc` then when `SHLVL` is unset or 0 (a runner
 * that starts the tests without a shell), which under `-u` fails on its unset `PS1`. A reader's
 * terminal reads no rc file for a script either.
 */
function bash(script: string, env: Record<string, string>): Promise<Run> {
  return runInRepo(['bash', '--norc', '-euo', 'pipefail', '-c', script], env);
}

describe('the README', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => harness.close());

  it('has a tour with no hard-coded instant', () => {
    // Act
    const blocks = tourBlocks(readme);

    // Assess: at least the /v1 tour and the Celery one; a written date goes stale (2030 did)
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(blocks.join('\n')).not.toMatch(/\d{4}-\d\d-\d\dT\d\d/);
  });

  it('has no hard-coded instant in any shell example of the README or docs/, which a reader would copy', () => {
    // Prepare
    const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))];

    // Act: every ```sh block (tour or not) naming a date and hour
    const stale = pages.flatMap((page) =>
      [...readFileSync(join(repoRoot, page), 'utf8').matchAll(/^```sh\b[^\n]*\n([\s\S]*?)^```$/gm)]
        .flatMap((block) => (block[1] ?? '').match(/\d{4}-\d\d-\d\dT\d\d[^"'\s]*/g) ?? [])
        .map((instant) => `${page}: ${instant}`),
    );

    // Assess
    expect(stale).toEqual([]);
  });

  it('tour runs as written against a local stack', async () => {
    // Prepare: the stack's URL and key, and the repository's Node first, as `npm start` users have it
    const script = tourBlocks(readme).join('\n');

    // Act
    const result = await bash(script, {
      API: harness.stack.httpUrl,
      HERALD_JWT_KEY_FILE: harness.keyFile,
      // As a runner without a shell leaves it: bash must still read no rc file (see `bash`).
      SHLVL: '0',
    });

    // Assess: every curl -f succeeded, and the cancels answered as the README says
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"status":"cancelled"');
    expect(result.stdout).toContain('"message":"Notification cancelled successfully"');
    // The self-service block: bob's phone awaits its code, then the code from the outbox confirms it
    const awaiting = result.stdout.indexOf('"awaitingVerification":["sms"]');
    expect(awaiting, result.stdout).toBeGreaterThan(-1);
    expect(result.stdout.slice(awaiting)).toContain('"awaitingVerification":[]');
    // The time-zone example: 09:00 of the day it computes, in alice's zone, a day ahead at most
    const [, day] = /"recipientId":"alice","scheduledAt":"[^"]+","timezone":"Europe\/Paris","localScheduledAt":"(\d{4}-\d\d-\d\d)T09:00:00\+0[12]:00"/.exec(result.stdout) ?? [];
    expect(day, result.stdout).toBeDefined();
    expect(Date.parse(`${day ?? ''}T00:00:00Z`) - Date.now()).toBeLessThanOrEqual(86_400_000);
    expect(Date.parse(`${day ?? ''}T00:00:00Z`) - Date.now()).toBeGreaterThan(-86_400_000);
  }, 60_000);

  it('lists every route of /openapi.json in its tables, and no route the API lacks', async () => {
    // Prepare
    const { body } = await harness.api('GET', '/openapi.json');
    const documented = Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );

    // Act
    const listed = routesInTables(readme);

    // Assess: the local stack's own /_local routes are documented beside it, not in the API
    expect(documented.filter((route) => !listed.has(route))).toEqual([]);
    expect([...listed].filter((route) => !documented.includes(route) && !route.includes(' /_local/'))).toEqual([]);
  });

  it('sends a newcomer who opens / of the local stack to the docs', async () => {
    // Act
    const asJson = await harness.api('GET', '/');
    const asPage = await fetch(`${harness.stack.httpUrl}/`, { headers: { accept: 'text/html' } });

    // Assess
    expect(asJson.status).toBe(200);
    expect(asJson.body.links).toEqual(expect.arrayContaining([expect.objectContaining({ href: '/docs' })]));
    expect(asPage.status).toBe(200);
    expect(await asPage.text()).toContain('<a href="/docs">');
  });
});
