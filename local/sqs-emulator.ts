/**
 * SQS for the local stack: fauxqs, built in this process (its `buildApp` with stores we create,
 * persisted in SQLite under `dataDir` as its `startFauxqs` does), so the functions' calls reach
 * it in one hop: the faultable endpoint names each call from its `X-Amz-Target` header, gives it
 * to the call hook, and hands it to fauxqs's router in-process (`app.routing`), body unread.
 *
 * fauxqs exports `buildApp` but not its stores nor its SQLite persistence, so they are loaded
 * from its `dist/` by file URL: internals, not public API. package.json therefore pins fauxqs to
 * the exact version below, and this module checks it at start (docs/architecture.md,
 * "The local stack").
 *
 * fauxqs does not hold visibility to 12 hours from the receive; `sqs-visibility-ceiling.ts` adds
 * that to its app, on both endpoints. Nor does it give back the messages of a receive whose
 * caller hung up, nor count an expired visibility timeout until the next receive;
 * `sqs-visibility.ts` does both.
 *
 * Queue URLs name the host and port of the endpoint a queue was created through (the plain one,
 * by the stack); the product's SQS client sets `useQueueUrlAsEndpoint: false`, so its calls go
 * to the faultable endpoint whatever the URL says, and fauxqs finds the queue by the URL's name.
 */
import { readFile } from 'node:fs/promises';
import { buildApp } from 'fauxqs';
import type { BuildAppOptions } from 'fauxqs';
import type { CallHook } from './aws-call-hook.ts';
import { assertPinnedVersion } from './pinned-version.ts';
import { startEmulatorFront } from './emulator-front.ts';
import type { EmulatorFront } from './emulator-front.ts';
import { httpUrl } from './listen.ts';
import { enforceVisibilityCeiling } from './sqs-visibility-ceiling.ts';
import { countExpiredVisibilityTimeouts, returnAbandonedReceives } from './sqs-visibility.ts';
import { keepConnectionsAlive } from './listen.ts';
import { refuseForeignHosts } from './host-guard.ts';

/** The fauxqs version whose internals this module loads (package.json pins it exactly). */
export const FAUXQS_VERSION = '2.4.1';

type Stores = NonNullable<BuildAppOptions['stores']>;
type Persistence = NonNullable<Stores['sqsStore']['persistence']>;

interface FauxqsInternals {
  readonly SqsStore: new () => Stores['sqsStore'];
  readonly SnsStore: new () => Stores['snsStore'];
  readonly S3Store: new () => Stores['s3Store'];
  readonly PersistenceManager: new (dataDir: string) => Persistence;
}

async function loadFauxqsInternals(): Promise<FauxqsInternals> {
  const entry = import.meta.resolve('fauxqs');
  const { version } = JSON.parse(await readFile(new URL('../package.json', entry), 'utf8')) as { version: string };
  assertPinnedVersion({ name: 'fauxqs', installed: version, pinned: FAUXQS_VERSION, module: 'local/sqs-emulator.ts' });
  const load = async <T>(path: string, name: string): Promise<T> => ((await import(new URL(path, entry).href)) as Record<string, T>)[name] as T;
  acceptSupplementaryCharacters(await load<RegExp>('./sqs/sqsTypes.js', 'INVALID_MESSAGE_BODY_CHAR'));
  return {
    SqsStore: await load('./sqs/sqsStore.js', 'SqsStore'),
    SnsStore: await load('./sns/snsStore.js', 'SnsStore'),
    S3Store: await load('./s3/s3Store.js', 'S3Store'),
    PersistenceManager: await load('./persistence.js', 'PersistenceManager'),
  };
}

/**
 * A message body's characters as SQS allows them: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to
 * #xFFFD | #x10000 to #x10FFFF (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
 * fauxqs tests a body with `/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/`, a pattern without the `u`
 * flag, so the two halves of any character above U+FFFF (an emoji) read as forbidden: SQS accepts
 * them, and a recipient id or a title with an emoji could not be queued locally. The one pattern
 * object its send actions share tests by code point instead (a lone half is still refused).
 */
// eslint-disable-next-line no-control-regex -- the control characters SQS allows are the point
export const sqsInvalidBodyCharacter = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function acceptSupplementaryCharacters(fauxqsPattern: RegExp): void {
  fauxqsPattern.test = (text: string): boolean => sqsInvalidBodyCharacter.test(text);
}

export interface SqsEmulatorOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Port of the plain endpoint; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** When set, queues and messages (in flight too) live in SQLite there and survive a restart. */
  readonly dataDir?: string;
  /** When set, the faultable endpoint whose calls go through `hook`: the functions'. */
  readonly faultable?: { readonly hook: CallHook; readonly port?: number };
  /** Epoch ms, for the visibility ceiling's clock. @default Date.now */
  readonly now?: () => number;
}

export interface SqsEmulator {
  /** The plain endpoint: the stack's own clients, tests, the AWS CLI. */
  readonly endpoint: string;
  readonly faultableEndpoint?: string;
  /** Stops both endpoints and fauxqs (its timers, then its SQLite file). */
  stop(): Promise<void>;
}

/** Builds fauxqs with its stores (persisted under `dataDir` when given) and starts its endpoints. */
export async function startSqsEmulator(options: SqsEmulatorOptions = {}): Promise<SqsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const internals = await loadFauxqsInternals();
  const stores: Stores = { sqsStore: new internals.SqsStore(), snsStore: new internals.SnsStore(), s3Store: new internals.S3Store() };
  let persistence: Persistence | undefined;
  if (options.dataDir) {
    persistence = new internals.PersistenceManager(options.dataDir);
    // Loaded before the stores get their persistence, as startFauxqs does: loading must not write back.
    persistence.load(stores.sqsStore, stores.snsStore, stores.s3Store);
    stores.sqsStore.persistence = persistence;
    stores.snsStore.persistence = persistence;
    stores.s3Store.persistence = persistence;
    for (const queue of stores.sqsStore.allQueues()) queue.persistence = persistence;
  }
  const app = buildApp({ logger: false, stores });
  enforceVisibilityCeiling(app, options.now);
  returnAbandonedReceives(app, stores.sqsStore);
  countExpiredVisibilityTimeouts(app, stores.sqsStore);
  const closePersistence = persistence;
  if (closePersistence) app.addHook('preClose', () => closePersistence.close());

  let front: EmulatorFront | undefined;
  try {
    keepConnectionsAlive(app.server);
    await app.listen({ port: options.port ?? 0, host });
    refuseForeignHosts(app.server, host);
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    if (options.faultable) {
      front = await startEmulatorFront({
        service: 'sqs',
        hook: options.faultable.hook,
        serve: (req, res) => app.routing(req, res),
        host,
        ...(options.faultable.port !== undefined ? { port: options.faultable.port } : {}),
      });
    }
    return {
      endpoint: httpUrl(host, port),
      ...(front ? { faultableEndpoint: front.endpoint } : {}),
      stop: async () => {
        await front?.stop();
        await app.close();
      },
    };
  } catch (error) {
    await front?.stop().catch(() => undefined);
    await app.close().catch(() => undefined);
    throw error;
  }
}
