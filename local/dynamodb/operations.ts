/**
 * Every DynamoDB operation the local endpoint serves, run in-process on dynalite's store:
 * dynalite's own validations, the item locks, the number limits of updates, then dynalite's
 * action, or the transactions dynalite lacks (`transact-write-items.ts`, `transact-get-items.ts`).
 * Every write to a table with a stream appends its records (`stream-capture.ts`), and the tables'
 * `StreamSpecification` is kept (`table-streams.ts`); the Streams API reads them (`streams-api.ts`).
 */
import { dynaliteActions, dynaliteDb, dynaliteOperations, dynaliteValidations, isDynaliteError } from './dynalite.ts';
import type { AttributeMap, DynaliteError, DynaliteOperation, DynaliteStore, Json, TypeTree } from './dynalite.ts';
import { runAction } from './guarded-actions.ts';
import { changesIndexes, refuseUnreadableIndex, resumeIndexUpdates, updateTableIndexes, withIndexCreationTypes } from './index-updates.ts';
import type { IndexWriting } from './index-writes.ts';
import { KeyLocks } from './key-locks.ts';
import { arithmeticError } from './limits.ts';
import { withStreamCapture } from './stream-capture.ts';
import type { CaptureTarget } from './stream-capture.ts';
import { ttlIdentity } from './stream-records.ts';
import { createStreamsApi } from './streams-api.ts';
import type { StreamsApi } from './streams-api.ts';
import { StreamLog } from './streams.ts';
import type { StreamedTableDescription } from './streams.ts';
import { streamFieldsOnCreate, updateTableStream } from './table-streams.ts';
import { lockKeyOf, readItem, TableSchemas, transitionLanded } from './tables.ts';
import { transactGetItems } from './transact-get-items.ts';
import { transactWriteItems } from './transact-write-items.ts';
import type { TransactionContext } from './transaction-support.ts';

export const transactionOperations = ['TransactWriteItems', 'TransactGetItems'] as const;
/** The operations the endpoint serves: dynalite's and the transactions. */
export const supportedOperations: ReadonlySet<string> = new Set([...dynaliteOperations, ...transactionOperations]);
export type SupportedOperation = DynaliteOperation | (typeof transactionOperations)[number];

/** Who made a call, when it matters to what it writes. */
export interface Caller {
  /** DynamoDB itself (Time to Live): its deletes carry the service's `userIdentity` in the stream. */
  readonly service?: boolean;
}

export interface DynamoDbOperations {
  /**
   * Runs `operation` on a parsed request body (already checked against the nesting limit);
   * resolves with the response body, rejects with a DynaliteError (an AWS error answer) or any
   * other error (an internal failure).
   */
  run(operation: SupportedOperation, request: Json, caller?: Caller): Promise<Json>;
  /** The tables' streams: what writes appended, and who is told of new records. */
  readonly streams: StreamLog;
  /** The DynamoDB Streams API over them. */
  readonly streamsApi: StreamsApi;
}

export interface DynamoDbOperationsOptions {
  /** The region stream records name. @default 'us-east-1' */
  readonly region?: string;
  /** The streams' clock (record times, retention, iterator expiry), epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** The operations on items: their table lookups can be answered from the kept descriptions. */
const itemOperations: ReadonlySet<DynaliteOperation> = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchGetItem', 'BatchWriteItem', 'Query', 'Scan']);
/** The operations that change a table's description, which must then be read afresh. */
const tableOperations: ReadonlySet<DynaliteOperation> = new Set(['CreateTable', 'UpdateTable', 'DeleteTable']);

/**
 * The single-item writes that take `ReturnValuesOnConditionCheckFailure` (AWS added it after
 * dynalite was written): its type is added to dynalite's, and the item is put in the
 * ConditionalCheckFailedException here.
 */
const returnsItemOnConditionFailure: ReadonlySet<DynaliteOperation> = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
/** The writes DynamoDB refuses while an ongoing TransactWriteItems holds their item. */
const singleItemWrites: ReadonlySet<DynaliteOperation> = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

/**
 * `TransactionConflictException` (400), as DynamoDB answers a PutItem, UpdateItem or DeleteItem
 * of an item an ongoing TransactWriteItems holds ("Transaction conflict handling", Amazon
 * DynamoDB Transactions: How it works). Nothing was written.
 */
function transactionConflict(): DynaliteError {
  const message = 'Transaction is ongoing for the item';
  return Object.assign(new Error(message), {
    statusCode: 400,
    body: { __type: 'com.amazonaws.dynamodb.v20120810#TransactionConflictException', message },
  });
}
const typesOf: Readonly<Record<DynaliteOperation, TypeTree>> = Object.fromEntries(
  dynaliteOperations.map((operation) => {
    const { types } = dynaliteActions[operation].validation;
    const extra = returnsItemOnConditionFailure.has(operation) ? { ReturnValuesOnConditionCheckFailure: { type: 'String', enum: ['ALL_OLD', 'NONE'] } } : {};
    return [operation, { ...types, ...extra }];
  }),
) as Record<DynaliteOperation, TypeTree>;

type WriteRequest = { PutRequest?: { Item?: AttributeMap }; DeleteRequest?: { Key?: AttributeMap } };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** True when an update computes a number: an ADD, or a SET with `+`, `-` or a function. */
function computesNumbers(update: Json): boolean {
  const sections = (update._updates as { sections?: readonly { type: string; val?: unknown }[] } | undefined)?.sections ?? [];
  if (sections.some((section) => section.type === 'add' || (section.type === 'set' && isObject(section.val) && 'type' in section.val))) return true;
  return Object.values((update.AttributeUpdates as Record<string, { Action?: string }> | undefined) ?? {}).some((change) => change.Action === 'ADD');
}

/** Creates the operations over one dynalite store. */
export function createDynamoDbOperations(store: DynaliteStore, log: (line: string) => void, options: DynamoDbOperationsOptions = {}): DynamoDbOperations {
  const locks = new KeyLocks();
  const tables = new TableSchemas(store);
  const streams = new StreamLog({ region: options.region ?? 'us-east-1', ...(options.now ? { now: options.now } : {}) });
  const transactions: TransactionContext = { store, locks, tables, log, streams };
  const indexUpdates = { store, tables, locks, log, getIndexActions: (dynaliteDb as unknown as IndexWriting).getIndexActions, backfills: new Map() };
  const updateTableTypes = withIndexCreationTypes(typesOf.UpdateTable, typesOf.CreateTable);
  // A store on disk may hold an index change a stopped endpoint left under way.
  if (store.options.path !== undefined) void resumeIndexUpdates(indexUpdates);

  /** UpdateTable creating or deleting a global secondary index, which dynalite ignores (`index-updates.ts`). */
  async function runIndexUpdate(request: Json): Promise<Json> {
    const data = dynaliteValidations.checkTypes(request, updateTableTypes);
    dynaliteValidations.checkValidations(data, updateTableTypes, dynaliteActions.UpdateTable.validation.custom, store);
    return updateTableIndexes(indexUpdates, data);
  }

  async function lockKeys(table: unknown, items: readonly (AttributeMap | undefined)[]): Promise<string[]> {
    const schema = await tables.keySchema(String(table));
    return schema ? items.flatMap((item) => lockKeyOf(schema, item) ?? []) : [];
  }

  /** The items an operation must hold: every write, and the reads AWS isolates from transactions. */
  async function itemsTouched(operation: DynaliteOperation, data: Json): Promise<string[]> {
    switch (operation) {
      case 'PutItem':
        return lockKeys(data.TableName, [data.Item as AttributeMap]);
      case 'UpdateItem':
      case 'DeleteItem':
      case 'GetItem':
        return lockKeys(data.TableName, [data.Key as AttributeMap]);
      case 'BatchWriteItem': {
        const perTable = Object.entries(data.RequestItems as Record<string, WriteRequest[]>).map(([table, requests]) =>
          lockKeys(table, requests.map((request) => request.PutRequest?.Item ?? request.DeleteRequest?.Key)),
        );
        return (await Promise.all(perTable)).flat();
      }
      case 'BatchGetItem': {
        const perTable = Object.entries(data.RequestItems as Record<string, { Keys: AttributeMap[] }>).map(([table, request]) => lockKeys(table, request.Keys));
        return (await Promise.all(perTable)).flat();
      }
      default:
        return [];
    }
  }

  async function targetsIn(table: unknown, items: readonly (AttributeMap | undefined)[]): Promise<CaptureTarget[]> {
    const schema = (await tables.keySchema(String(table))) as StreamedTableDescription | undefined;
    return schema ? items.flatMap((item) => (item ? [{ table: schema, item }] : [])) : [];
  }

  /** The items a write changes, for the streams: none for any other operation. */
  async function writeTargets(operation: DynaliteOperation, data: Json): Promise<CaptureTarget[]> {
    switch (operation) {
      case 'PutItem':
        return targetsIn(data.TableName, [data.Item as AttributeMap]);
      case 'UpdateItem':
      case 'DeleteItem':
        return targetsIn(data.TableName, [data.Key as AttributeMap]);
      case 'BatchWriteItem': {
        const perTable = Object.entries(data.RequestItems as Record<string, WriteRequest[]>).map(([table, requests]) =>
          targetsIn(table, requests.map((request) => request.PutRequest?.Item ?? request.DeleteRequest?.Key)),
        );
        return (await Promise.all(perTable)).flat();
      }
      default:
        return [];
    }
  }

  /** Refuses an update whose arithmetic would store a number out of AWS's range (the item's lock is held). */
  async function refuseOutOfRangeArithmetic(update: Json): Promise<void> {
    const table = await tables.keySchema(String(update.TableName));
    const key = update.Key as AttributeMap;
    // A key dynalite will refuse, or a condition that fails, is answered by the action itself.
    if (!table || dynaliteDb.validateKey(key, table)) return;
    const item = await readItem(store, table, key);
    if (dynaliteDb.checkConditional(update, item)) return;
    const message = arithmeticError(update, item);
    if (message) throw dynaliteDb.validationError(message);
  }

  /** Adds the current item to a ConditionalCheckFailedException when the write asked for it (the item's lock is held). */
  async function withItemOnConditionFailure(error: unknown, operation: DynaliteOperation, data: Json): Promise<unknown> {
    if (!returnsItemOnConditionFailure.has(operation) || data.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD') return error;
    if (!isDynaliteError(error) || !String(error.body.__type).endsWith('#ConditionalCheckFailedException')) return error;
    const table = await tables.keySchema(String(data.TableName));
    const item = table ? await readItem(store, table, (operation === 'PutItem' ? data.Item : data.Key) as AttributeMap) : undefined;
    return item ? Object.assign(error, { body: { ...error.body, Item: item } }) : error;
  }

  async function runDynalite(operation: DynaliteOperation, request: Json, caller: Caller): Promise<Json> {
    const { action, validation } = dynaliteActions[operation];
    const types = typesOf[operation];
    // dynalite keeps no StreamSpecification (its type check drops it): the description carries it.
    const streamFields = operation === 'CreateTable' ? streamFieldsOnCreate(store, request) : {};
    const data = dynaliteValidations.checkTypes(request, types);
    dynaliteValidations.checkValidations(data, types, validation.custom, store);
    if (operation === 'TagResource') refuseIncompleteTags(data);
    Object.assign(data, streamFields);
    const changesTable = tableOperations.has(operation);
    if (changesTable) tables.forget(String(data.TableName));
    const keys = await itemsTouched(operation, data);
    // Always, as AWS: Herald's code must cope with it, so the local stack must show it.
    if (singleItemWrites.has(operation) && locks.heldByTransaction(keys)) throw transactionConflict();
    const release = keys.length > 0 ? await locks.acquire(keys) : undefined;
    try {
      if (operation === 'UpdateItem' && computesNumbers(data)) await refuseOutOfRangeArithmetic(data);
      if ((operation === 'Query' || operation === 'Scan') && typeof data.IndexName === 'string' && !tables.settled(String(data.TableName))) {
        const table = await tables.describe(String(data.TableName)).catch(() => undefined);
        if (table) refuseUnreadableIndex(table, data.IndexName);
      }
      const identity = caller.service && operation === 'DeleteItem' ? ttlIdentity : undefined;
      const answer = await withStreamCapture(
        { store, streams },
        await writeTargets(operation, data),
        () => runAction(store, action, data, itemOperations.has(operation) ? tables : undefined),
        identity,
      );
      if (changesTable) await transitionLanded(store, operation as 'CreateTable' | 'UpdateTable' | 'DeleteTable', String(data.TableName));
      return answer;
    } catch (error) {
      throw await withItemOnConditionFailure(error, operation, data);
    } finally {
      release?.();
      if (changesTable) tables.forget(String(data.TableName));
    }
  }

  return {
    run(operation, request, caller = {}) {
      if (operation === 'TransactWriteItems') return transactWriteItems(transactions, request);
      if (operation === 'TransactGetItems') return transactGetItems(transactions, request);
      if (operation === 'UpdateTable' && request.StreamSpecification !== undefined) return updateTableStream(store, tables, request);
      if (operation === 'UpdateTable' && changesIndexes(request)) return runIndexUpdate(request);
      return runDynalite(operation, request, caller);
    },
    streams,
    streamsApi: createStreamsApi({ store, tables, streams, ...(options.now ? { now: options.now } : {}) }),
  };
}

/**
 * Refuses a TagResource whose tags lack a Key or a Value, as AWS does (both are required members of
 * `Tag`, "TagResource", Amazon DynamoDB API Reference); dynalite's checks let them through to its store.
 * @throws a ValidationException in AWS's shape, one message per missing member
 */
export function refuseIncompleteTags(data: Json): void {
  const tags = Array.isArray(data.Tags) ? (data.Tags as (Json | null)[]) : [];
  const problems = tags.flatMap((tag, index) =>
    (['Key', 'Value'] as const)
      .filter((member) => tag?.[member] === undefined || tag[member] === null)
      .map((member) => `Value null at 'tags.${index + 1}.member.${member.toLowerCase()}' failed to satisfy constraint: Member must not be null`),
  );
  if (problems.length === 0) return;
  throw dynaliteDb.validationError(`${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`);
}
