/**
 * Issue 8's bundle budget: every function's bundle, as the CDK builds it (HeraldFunction's esbuild
 * options, through the bench's own bundling), is at most 300 KB, source map apart (the map is a
 * separate file, read only when a stack trace is printed). Size is deterministic, so it is asserted;
 * init time is printed by `npm run bench -- bundles`, never asserted.
 *
 * The functions that cannot meet the target yet have a recorded ceiling instead, so they cannot grow
 * unnoticed; a function that meets the target must leave that list.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions } from '../../lib/app-description.ts';
import { repositoryRoot } from '../../lib/constructs/herald-function.ts';
import { bundleFunctions, sizeTargetBytes } from '../../scripts/bench/bundles.ts';

const kb = 1024;

/**
 * Over the 300 KB target today, each with the ceiling it must stay under and why. The AWS SDK
 * clients alone (bundled: lib/constructs/herald-function.ts) weigh ~210 KB for DynamoDB and
 * 15-35 KB for each further client.
 */
const overTarget: Readonly<Record<string, { readonly ceilingBytes: number; readonly why: string }>> = {
  api: {
    ceilingBytes: 1042 * kb,
    why: 'every route: eight SDK clients, zod classic with the OpenAPI schemas, liquidjs, Temporal, croner, the idempotency utility, the send budgets its verification codes take from (SES GetSendQuota, ~10 KB), the records that let a create retried after its death converge on its first attempt (~4 KB), the two views of a delivery error (recipient, operator) with their OpenAPI schemas and the unread count\'s version (~4 KB); a rollback that finds part of a create delivered, resumed instead of undone, and its 503 that names them (~2.7 KB)',
  },
  deliver: {
    ceilingBytes: 808 * kb,
    why: 'the delivery engine: seven SDK clients (~370 KB with the shared core, SNS for mobile push and SMS among them), liquidjs, Temporal, web-push (~100 KB with bn.js and asn1.js); the unread count\'s version in its frames and commit (~0.8 KB); the category stored with each delivery error (~1 KB); the connection count its forgetting of lost connections keeps (~1 KB)',
  },
  'broadcast-deliver': { ceilingBytes: 788 * kb, why: 'the delivery engine, as deliver; the broadcast store\'s remove that leaves a started broadcast alone (~0.3 KB)' },
  fanout: {
    ceilingBytes: 610 * kb,
    why: 'creates notifications and broadcasts: zod classic, liquidjs, Temporal, three SDK clients; the templates\' exact payload numbers and locale fallback and the broadcasts\' due index (~3 KB); the create records that let an occurrence taken over from a dead worker converge (~5 KB); an occurrence rolled back after part of it was delivered, resumed by the next worker (~2.3 KB)',
  },
};

describe('function bundle sizes (issue 8)', () => {
  let scratch: string;
  let sizes: ReadonlyMap<string, number>;
  let files: ReadonlyMap<string, string>;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'herald-bundle-size-'));
    const built = bundleFunctions(join(scratch, 'cdk.out'));
    files = new Map(built.map((bundle) => [bundle.name, bundle.file]));
    sizes = new Map(await Promise.all(built.map(async (bundle): Promise<[string, number]> => [bundle.name, (await stat(bundle.file)).size])));
  }, 180_000);

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('bundles every function of the description', () => {
    expect([...sizes.keys()].sort()).toEqual(functions.map((definition) => definition.name).sort());
  });

  it('keeps every bundle at most 300 KB, or under the ceiling recorded for a function not there yet', () => {
    const over = [...sizes]
      .filter(([name, bytes]) => bytes > (overTarget[name]?.ceilingBytes ?? sizeTargetBytes))
      .map(([name, bytes]) => `${name}: ${(bytes / kb).toFixed(1)} KB`);
    expect(over).toEqual([]);
  });

  it('lists as over the target only functions that still are', () => {
    const met = Object.keys(overTarget).filter((name) => (sizes.get(name) ?? 0) <= sizeTargetBytes);
    expect(met).toEqual([]);
  });

  it("keeps the DynamoDB client's endpoint cache in a Map, without mnemonist's LRU cache", async () => {
    // ws-connect carries the DynamoDB client, which makes an EndpointCache at construction.
    const code = await readFile(files.get('ws-connect') ?? '', 'utf8');
    expect(code.includes('EndpointCache: capacity should be a positive number.')).toBe(true);
    expect(code.includes('mnemonist/lru-cache')).toBe(false);
  });

  it('marks every module-level once(...) of the dependency modules pure, so a bundle drops those it never asks for', async () => {
    // esbuild keeps a call it cannot prove free of side effects, even when its result is unused.
    const folder = join(repositoryRoot, 'shared/adapters/dependencies');
    const unmarked: string[] = [];
    for (const file of await readdir(folder)) {
      const source = await readFile(join(folder, file), 'utf8');
      for (const line of source.split('\n')) if (/^(export )?const \w+ = once\(/.test(line)) unmarked.push(`${file}: ${line}`);
    }
    expect(unmarked).toEqual([]);
  });
});
