/**
 * UpdateTable's `GlobalSecondaryIndexUpdates` `Create` and `Delete`: adding a global secondary
 * index to a table that has items, and removing one. dynalite validates both and then ignores
 * them (its UpdateTable only changes throughput), so an index added by a deploy never appeared
 * locally and queries through it failed. Here, as on AWS ("Managing global secondary indexes",
 * Amazon DynamoDB Developer Guide; "UpdateTable", API Reference):
 * - one index is created or deleted per UpdateTable, and alone (`LimitExceededException` for
 *   more, or while another index of the table is being created or deleted);
 * - the new index's key attributes must be in `AttributeDefinitions` (the request's, added to the
 *   table's), its projection and throughput follow CreateTable's rules, at most 20 per table;
 * - the answer shows the index `CREATING` with `Backfilling: true`; the table's items are then
 *   read into it (an item whose index key has another type than the definition is left out, as
 *   AWS leaves out index key violations), while writes go on and keep it current; then it is
 *   `ACTIVE` with `Backfilling: false`. A Query or Scan of it before then is refused ("Cannot read
 *   from backfilling global secondary index");
 * - a deleted index shows `DELETING`, then leaves the description, its entries with it; an index
 *   still backfilling may be deleted (its backfill stops), nothing else changes meanwhile.
 * Sources: UpdateTable, GlobalSecondaryIndexDescription (`Backfilling`) in the API Reference.
 */
import { dynaliteDb } from './dynalite.ts';
import type { AttributeMap, DynaliteError, DynaliteStore, Json, TableDescription } from './dynalite.ts';
import { runGuarded } from './guarded-actions.ts';
import type { IndexWriting } from './index-writes.ts';
import type { KeyLocks } from './key-locks.ts';
import { lockKeyOf, readItem } from './tables.ts';
import type { TableSchemas } from './tables.ts';

/** A global secondary index as the table's description keeps it. */
interface IndexDescription {
  readonly IndexName: string;
  readonly KeySchema: readonly { readonly AttributeName: string; readonly KeyType: string }[];
  readonly Projection: { readonly ProjectionType?: string; readonly NonKeyAttributes?: readonly string[] };
  IndexStatus?: string;
  Backfilling?: boolean;
  readonly [other: string]: unknown;
}

/** A table's description with what this module reads and changes. */
type IndexedTable = TableDescription & {
  AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
  GlobalSecondaryIndexes?: IndexDescription[];
  readonly LocalSecondaryIndexes?: readonly IndexDescription[];
  readonly BillingModeSummary?: { readonly BillingMode?: string };
  readonly TableArn?: string;
};

interface CreateAction {
  readonly IndexName: string;
  readonly KeySchema: readonly { readonly AttributeName: string; readonly KeyType: string }[];
  readonly Projection: { readonly ProjectionType?: string; readonly NonKeyAttributes?: readonly string[] };
  readonly ProvisionedThroughput?: { readonly ReadCapacityUnits: number; readonly WriteCapacityUnits: number };
}

type IndexUpdate = { readonly Create?: CreateAction; readonly Delete?: { readonly IndexName: string }; readonly Update?: unknown };

/** What the index changes need of the endpoint. */
export interface IndexUpdateContext {
  readonly store: DynaliteStore;
  readonly tables: TableSchemas;
  readonly locks: KeyLocks;
  /** Plans an item's index entries (dynalite's `getIndexActions`). */
  readonly getIndexActions: IndexWriting['getIndexActions'];
  /** Told of a backfill or a removal that failed (it leaves the index `CREATING` or `DELETING`). */
  readonly log: (line: string) => void;
  /** The backfills running, by table and index (`table\u0000index`): a delete of the index stops its own. */
  readonly backfills: Map<string, Backfill>;
}

/** A backfill under way: `stop` asks it to end before its next item; `done` settles when it has. */
export interface Backfill {
  stop: boolean;
  readonly done: Promise<void>;
}

const backfillKey = (table: string, index: string): string => `${table}\u0000${index}`;

/** The most global secondary indexes a table may have (the default quota). */
export const maxGlobalIndexes = 20;

const onlyOneAtATime = 'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table';

function limitExceeded(message: string): DynaliteError {
  return Object.assign(new Error(message), { statusCode: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#LimitExceededException', message } });
}

function resourceNotFound(message: string): DynaliteError {
  return Object.assign(new Error(message), { statusCode: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message } });
}

function resourceInUse(message: string): DynaliteError {
  return Object.assign(new Error(message), { statusCode: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ResourceInUseException', message } });
}

const invalid = (message: string): DynaliteError => dynaliteDb.validationError(`One or more parameter values were invalid: ${message}`);

/** The index creations and deletions an UpdateTable request asks for. */
function indexChanges(request: Json): IndexUpdate[] {
  const updates = Array.isArray(request.GlobalSecondaryIndexUpdates) ? (request.GlobalSecondaryIndexUpdates as (IndexUpdate | null)[]) : [];
  return updates.filter((update): update is IndexUpdate => update !== null && typeof update === 'object' && (update.Create != null || update.Delete != null));
}

/** True when an UpdateTable request creates or deletes a global secondary index. */
export function changesIndexes(request: Json): boolean {
  return indexChanges(request).length > 0;
}

/**
 * dynalite's UpdateTable request types, with `AttributeDefinitions` (which it does not know, so
 * its type check would drop them) and a `Create` whose `ProvisionedThroughput` may be absent (it
 * must be, on an on-demand table).
 */
export function withIndexCreationTypes(types: Record<string, unknown>, createTableTypes: Record<string, unknown>): Record<string, unknown> {
  const updates = structuredClone(types.GlobalSecondaryIndexUpdates) as { children: { children: { Create: { children: { ProvisionedThroughput: { notNull?: boolean } } } } } };
  delete updates.children.children.Create.children.ProvisionedThroughput.notNull;
  const definitions = structuredClone(createTableTypes.AttributeDefinitions) as { required?: boolean; notNull?: boolean };
  delete definitions.required;
  delete definitions.notNull;
  return { ...types, GlobalSecondaryIndexUpdates: updates, AttributeDefinitions: definitions };
}

/**
 * Refuses a Query or Scan of an index that cannot be read yet (`CREATING`) or any more
 * (`DELETING`), as DynamoDB does. @throws a ValidationException
 */
export function refuseUnreadableIndex(table: TableDescription, indexName: string): void {
  const index = (table as IndexedTable).GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === indexName);
  if (index?.IndexStatus === 'CREATING') throw dynaliteDb.validationError(`Cannot read from backfilling global secondary index: ${indexName}`);
  if (index?.IndexStatus === 'DELETING') throw dynaliteDb.validationError(`The table does not have the specified index: ${indexName}`);
}

/** The checks of a Create against the table it adds to; the definitions the table then has. @throws a ValidationException or LimitExceededException */
function checkCreate(table: IndexedTable, create: CreateAction, requested: readonly { AttributeName: string; AttributeType: string }[]): IndexedTable['AttributeDefinitions'] {
  const name = create.IndexName;
  const indexes = [...(table.GlobalSecondaryIndexes ?? []), ...(table.LocalSecondaryIndexes ?? [])];
  if (indexes.some((index) => index.IndexName === name)) throw dynaliteDb.validationError('Attempting to create an index which already exists');
  if ((table.GlobalSecondaryIndexes ?? []).length >= maxGlobalIndexes) throw limitExceeded(`One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of ${maxGlobalIndexes}`);
  const definitions = [...table.AttributeDefinitions];
  for (const definition of requested) {
    const existing = definitions.find((d) => d.AttributeName === definition.AttributeName);
    if (existing && existing.AttributeType !== definition.AttributeType) {
      throw invalid(`Cannot change the type of attribute ${definition.AttributeName} from ${existing.AttributeType} to ${definition.AttributeType}`);
    }
    if (!existing) definitions.push({ AttributeName: definition.AttributeName, AttributeType: definition.AttributeType });
  }
  const keys = create.KeySchema.map((key) => key.AttributeName);
  if (keys.some((key) => !definitions.some((d) => d.AttributeName === key))) {
    throw invalid(`Some index key attributes are not defined in AttributeDefinitions. Keys: [${keys.join(', ')}], AttributeDefinitions: [${definitions.map((d) => d.AttributeName).join(', ')}]`);
  }
  if (create.KeySchema[1] && create.KeySchema[0]?.AttributeName === create.KeySchema[1].AttributeName) {
    throw dynaliteDb.validationError('Both the Hash Key and the Range Key element in the KeySchema have the same name');
  }
  if (create.KeySchema[0]?.KeyType !== 'HASH') throw dynaliteDb.validationError('Invalid KeySchema: The first KeySchemaElement is not a HASH key type');
  if (create.KeySchema[1] && create.KeySchema[1].KeyType !== 'RANGE') throw dynaliteDb.validationError('Invalid KeySchema: The second KeySchemaElement is not a RANGE key type');
  const projection = create.Projection.ProjectionType;
  if (projection == null) throw invalid('Unknown ProjectionType: null');
  if (create.Projection.NonKeyAttributes && projection !== 'INCLUDE') throw invalid(`ProjectionType is ${projection}, but NonKeyAttributes is specified`);
  if (projection === 'INCLUDE' && !create.Projection.NonKeyAttributes) throw invalid('ProjectionType is INCLUDE, but NonKeyAttributes is not specified');
  const onDemand = table.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST';
  if (onDemand && create.ProvisionedThroughput) throw invalid(`ProvisionedThroughput should not be specified for index: ${name} when BillingMode is PAY_PER_REQUEST`);
  if (!onDemand && !create.ProvisionedThroughput) throw invalid(`ProvisionedThroughput must be specified for index: ${name}`);
  return definitions;
}

/** Reads, changes and writes back a table's description under its lock; resolves with what `change` returned. */
function changeTable<T>(store: DynaliteStore, name: string, change: (table: IndexedTable) => T): Promise<T> {
  return runGuarded<T>(store, (guarded, done) =>
    guarded.tableDb.lock(name, (release) => {
      const finish = release(done);
      guarded.getTable(name, false, (error, found) => {
        if (error || !found) return finish(error ?? resourceNotFound(`Requested resource not found: Table: ${name} not found`));
        let result: T;
        try {
          result = change(found as IndexedTable);
        } catch (refused) {
          return finish(refused as Error);
        }
        guarded.tableDb.put(name, found, (putError) => finish(putError ?? null, result));
      });
    }),
  );
}

/**
 * Runs an UpdateTable that creates or deletes one global secondary index (already through
 * dynalite's type checks and validations). Resolves with `{ TableDescription }` showing the index
 * `CREATING` (backfilling) or `DELETING`; the backfill or removal goes on after the answer, and
 * the index turns `ACTIVE` or leaves the description when it is done.
 * @throws LimitExceededException (more than one change, or another under way), ResourceInUseException
 *   (the table is not ACTIVE), ResourceNotFoundException (no such table or index), ValidationException
 */
export async function updateTableIndexes(context: IndexUpdateContext, data: Json): Promise<Json> {
  const changes = indexChanges(data);
  if (changes.length > 1) throw limitExceeded(onlyOneAtATime);
  const others = Object.keys(data).filter((key) => !['TableName', 'AttributeDefinitions', 'GlobalSecondaryIndexUpdates'].includes(key));
  const otherUpdates = ((data.GlobalSecondaryIndexUpdates as IndexUpdate[] | undefined) ?? []).filter((update) => update.Update != null);
  if (others.length > 0 || otherUpdates.length > 0) {
    throw dynaliteDb.validationError(`The local endpoint creates or deletes an index alone, not with ${[...others, ...(otherUpdates.length > 0 ? ['an index Update'] : [])].join(', ')}`);
  }
  const change = changes[0] as IndexUpdate;
  const name = String(data.TableName);
  const requested = (data.AttributeDefinitions as { AttributeName: string; AttributeType: string }[] | undefined) ?? [];
  context.tables.forget(name);
  try {
    const answer = await changeTable(context.store, name, (table) => {
      if (table.TableStatus !== 'ACTIVE') throw resourceInUse(`Attempt to change a resource which is still in use: Table is being updated: ${name}`);
      // An index still backfilling may itself be deleted; nothing else changes while one is under way.
      const deletesBackfilling = (index: IndexDescription): boolean => index.IndexStatus === 'CREATING' && index.Backfilling === true && change.Delete?.IndexName === index.IndexName;
      const underWay = (table.GlobalSecondaryIndexes ?? []).filter((index) => index.IndexStatus === 'CREATING' || index.IndexStatus === 'DELETING');
      if (underWay.some((index) => !deletesBackfilling(index))) throw limitExceeded(onlyOneAtATime);
      if (change.Create) {
        const create = change.Create;
        table.AttributeDefinitions = checkCreate(table, create, requested);
        const index: IndexDescription = {
          IndexName: create.IndexName,
          KeySchema: create.KeySchema,
          Projection: create.Projection,
          IndexStatus: 'CREATING',
          Backfilling: true,
          ProvisionedThroughput: { ...(create.ProvisionedThroughput ?? { ReadCapacityUnits: 0, WriteCapacityUnits: 0 }), NumberOfDecreasesToday: 0 },
          IndexSizeBytes: 0,
          ItemCount: 0,
          IndexArn: `${table.TableArn ?? ''}/index/${create.IndexName}`,
        };
        table.GlobalSecondaryIndexes = [...(table.GlobalSecondaryIndexes ?? []), index];
      } else {
        const indexName = change.Delete?.IndexName ?? '';
        const index = table.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === indexName);
        if (!index) throw resourceNotFound(`Requested resource not found: Index: ${indexName} not found`);
        index.IndexStatus = 'DELETING';
      }
      return { TableDescription: structuredClone(table) as unknown as Json };
    });
    const work = change.Create ? startBackfill(context, name, change.Create.IndexName) : removeIndex(context, name, change.Delete?.IndexName ?? '');
    work.catch((error: unknown) => context.log(`UpdateTable of ${name}: the index ${change.Create ? 'backfill' : 'removal'} failed: ${String(error)}`));
    return answer;
  } finally {
    context.tables.forget(name);
  }
}

/**
 * Takes up the index changes a stopped endpoint left under way in a store on disk: each index
 * still `CREATING` is backfilled (again: its puts are idempotent, and the writes since kept it),
 * each still `DELETING` removed. Resolves when all are done; a failure is logged, not thrown.
 */
export async function resumeIndexUpdates(context: IndexUpdateContext): Promise<void> {
  const tables = await runGuarded<IndexedTable[]>(context.store, (guarded, done) => {
    const found: IndexedTable[] = [];
    const stream = guarded.tableDb.createValueStream();
    stream.on('data', (table: IndexedTable) => found.push(table));
    stream.on('error', (error: Error) => done(error));
    stream.on('end', () => done(null, found));
  });
  const work = tables.flatMap((table) =>
    (table.GlobalSecondaryIndexes ?? []).flatMap((index) => {
      if (index.IndexStatus === 'CREATING') return [startBackfill(context, table.TableName, index.IndexName)];
      if (index.IndexStatus === 'DELETING') return [removeIndex(context, table.TableName, index.IndexName)];
      return [];
    }),
  );
  const results = await Promise.allSettled(work);
  for (const result of results) if (result.status === 'rejected') context.log(`Taking up an index change left under way failed: ${String(result.reason)}`);
}

/** Whether `item` can be in `index`: every key attribute present with the type the table defines for it. */
function qualifies(table: IndexedTable, index: IndexDescription, item: AttributeMap): boolean {
  return index.KeySchema.every((key) => {
    const type = table.AttributeDefinitions.find((d) => d.AttributeName === key.AttributeName)?.AttributeType;
    const value = item[key.AttributeName];
    return type !== undefined && value !== undefined && Object.hasOwn(value, type);
  });
}

/** Starts the backfill of a new index, kept in `context.backfills` until it ends. */
function startBackfill(context: IndexUpdateContext, name: string, indexName: string): Promise<void> {
  const key = backfillKey(name, indexName);
  const running: { stop: boolean; done?: Promise<void> } = { stop: false };
  const done = backfill(context, name, indexName, running).finally(() => context.backfills.delete(key));
  context.backfills.set(key, Object.assign(running, { done }) as Backfill);
  return done;
}

/**
 * Reads every item of the table into the new index, each under its item's lock, then makes the
 * index ACTIVE; ends early, leaving the index as it is, once `running.stop` is set (the index is
 * being deleted).
 */
async function backfill(context: IndexUpdateContext, name: string, indexName: string, running: { readonly stop: boolean }): Promise<void> {
  const { store } = context;
  const table = (await runGuarded<TableDescription>(store, (guarded, done) => guarded.getTable(name, false, done))) as IndexedTable;
  const index = table.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === indexName);
  if (!index) return;
  const keys = await runGuarded<AttributeMap[]>(store, (guarded, done) => {
    const found: AttributeMap[] = [];
    const stream = guarded.getItemDb(name).createValueStream();
    stream.on('data', (item: AttributeMap) => found.push(Object.fromEntries(table.KeySchema.map((key) => [key.AttributeName, item[key.AttributeName]])) as AttributeMap));
    stream.on('error', (error: Error) => done(error));
    stream.on('end', () => done(null, found));
  });
  const indexDb = store.getIndexDb('global', name, indexName);
  for (const key of keys) {
    if (running.stop) return;
    const lock = lockKeyOf(table, key);
    const release = lock === undefined ? undefined : await context.locks.acquire([lock]);
    try {
      // Read again under the lock: a write since the scan has put its own entry already.
      const item = await readItem(store, table, key);
      if (!item || !qualifies(table, index, item)) continue;
      for (const put of context.getIndexActions([index], undefined, item, table).puts) {
        await new Promise<void>((done, fail) => indexDb.put(put.key, put.item, (error) => (error ? fail(error) : done())));
      }
    } finally {
      release?.();
    }
  }
  if (running.stop) return;
  context.tables.forget(name);
  await changeTable(store, name, (current) => {
    const created = current.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === indexName);
    if (created?.IndexStatus === 'CREATING') Object.assign(created, { IndexStatus: 'ACTIVE', Backfilling: false });
  });
  context.tables.forget(name);
}

/** Removes a DELETING index from the description, then its entries, once a backfill of it has stopped. */
async function removeIndex(context: IndexUpdateContext, name: string, indexName: string): Promise<void> {
  const running = context.backfills.get(backfillKey(name, indexName));
  if (running) {
    running.stop = true;
    await running.done.catch(() => undefined);
  }
  context.tables.forget(name);
  await changeTable(context.store, name, (table) => {
    table.GlobalSecondaryIndexes = (table.GlobalSecondaryIndexes ?? []).filter((index) => index.IndexName !== indexName);
    if (table.GlobalSecondaryIndexes.length === 0) delete table.GlobalSecondaryIndexes;
  });
  context.tables.forget(name);
  await new Promise<void>((done, fail) => context.store.deleteIndexDb('global', name, indexName, (error) => (error ? fail(error) : done())));
}
