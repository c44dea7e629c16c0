/**
 * The request shapes of TransactWriteItems and TransactGetItems in dynalite's type notation,
 * built from dynalite's own types for PutItem, UpdateItem, DeleteItem and GetItem, so that
 * dynalite's `checkTypes` and `checkValidations` validate a transaction the way they validate
 * the single-item operations, with AWS's member paths in the messages
 * (`transactItems.1.member.put.tableName`). Each action's own checks (expressions, attribute
 * values, item size) are then dynalite's custom validation of the matching operation.
 *
 * Sources: the TransactWriteItems and TransactGetItems API references (members, lengths, enums).
 */
import { dynaliteActions, dynaliteValidations } from './dynalite.ts';
import type { ActionValidation, DynaliteStore, Json, TypeTree } from './dynalite.ts';

/** AWS's limit on actions per transaction. */
export const MAX_TRANSACTION_ACTIONS = 100;

export const writeActionKinds = ['ConditionCheck', 'Put', 'Delete', 'Update'] as const;
export type WriteActionKind = (typeof writeActionKinds)[number];

function pick(types: TypeTree, members: readonly string[]): TypeTree {
  return Object.fromEntries(members.map((member) => [member, types[member]]));
}

const required = (type: unknown): unknown => ({ ...(type as object), notNull: true });
const onConditionFailure = { ReturnValuesOnConditionCheckFailure: { type: 'String', enum: ['ALL_OLD', 'NONE'] } };
const expressionMembers = ['TableName', 'ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues'];

const putTypes = dynaliteActions.PutItem.validation.types;
const updateTypes = dynaliteActions.UpdateItem.validation.types;
const deleteTypes = dynaliteActions.DeleteItem.validation.types;
const getTypes = dynaliteActions.GetItem.validation.types;

/** Each write action's members, and the single-item validation whose custom checks apply to it. */
export const writeActions: Readonly<Record<WriteActionKind, { readonly types: TypeTree; readonly validation: ActionValidation }>> = {
  ConditionCheck: {
    types: { ...pick(deleteTypes, ['Key', ...expressionMembers]), ConditionExpression: required(deleteTypes.ConditionExpression), ...onConditionFailure },
    validation: dynaliteActions.DeleteItem.validation,
  },
  Put: { types: { ...pick(putTypes, ['Item', ...expressionMembers]), ...onConditionFailure }, validation: dynaliteActions.PutItem.validation },
  Delete: { types: { ...pick(deleteTypes, ['Key', ...expressionMembers]), ...onConditionFailure }, validation: dynaliteActions.DeleteItem.validation },
  Update: {
    types: { ...pick(updateTypes, ['Key', 'UpdateExpression', ...expressionMembers]), UpdateExpression: required(updateTypes.UpdateExpression), ...onConditionFailure },
    validation: dynaliteActions.UpdateItem.validation,
  },
};

const transactItems = (itemType: string, children: TypeTree): unknown => ({
  type: 'List',
  notNull: true,
  lengthGreaterThanOrEqual: 1,
  lengthLessThanOrEqual: MAX_TRANSACTION_ACTIONS,
  children: { type: `ValueStruct<${itemType}>`, children },
});

const transactWriteTypes: TypeTree = {
  ClientRequestToken: { type: 'String', lengthGreaterThanOrEqual: 1, lengthLessThanOrEqual: 36 },
  ReturnConsumedCapacity: putTypes.ReturnConsumedCapacity,
  ReturnItemCollectionMetrics: putTypes.ReturnItemCollectionMetrics,
  TransactItems: transactItems(
    'TransactWriteItem',
    Object.fromEntries(writeActionKinds.map((kind) => [kind, { type: `FieldStruct<${kind}>`, children: writeActions[kind].types }])),
  ),
};

const transactGetTypes: TypeTree = {
  ReturnConsumedCapacity: getTypes.ReturnConsumedCapacity,
  TransactItems: transactItems('TransactGetItem', {
    Get: { type: 'FieldStruct<Get>', notNull: true, children: pick(getTypes, ['Key', 'TableName', 'ProjectionExpression', 'ExpressionAttributeNames']) },
  }),
};

/** The one action of a TransactWriteItems entry; a message when it has none or several. */
export function writeActionOf(entry: Json): { kind: WriteActionKind; params: Json } | string {
  const kinds = writeActionKinds.filter((kind) => entry[kind] !== undefined);
  const [kind] = kinds;
  if (kinds.length !== 1 || kind === undefined) return 'TransactItems can only contain one of Check, Put, Update or Delete';
  return { kind, params: entry[kind] as Json };
}

function validate(data: Json, types: TypeTree, custom: (data: Json) => string | undefined, store: DynaliteStore): Json {
  const checked = dynaliteValidations.checkTypes(data, types);
  dynaliteValidations.checkValidations(checked, types, custom, store);
  return checked;
}

/**
 * A TransactWriteItems request as dynalite's validations leave it (each action carrying its
 * parsed expressions); throws dynalite's ValidationException or SerializationException.
 */
export function validateTransactWrite(data: Json, store: DynaliteStore): Json {
  return validate(
    data,
    transactWriteTypes,
    (checked) => {
      for (const entry of checked.TransactItems as Json[]) {
        const action = writeActionOf(entry);
        if (typeof action === 'string') return action;
        const message = writeActions[action.kind].validation.custom?.(action.params, store);
        if (message) return message;
      }
      return undefined;
    },
    store,
  );
}

/** A TransactGetItems request as dynalite's validations leave it; throws as `validateTransactWrite` does. */
export function validateTransactGet(data: Json, store: DynaliteStore): Json {
  return validate(
    data,
    transactGetTypes,
    (checked) => {
      for (const entry of checked.TransactItems as Json[]) {
        const message = dynaliteActions.GetItem.validation.custom?.(entry.Get as Json, store);
        if (message) return message;
      }
      return undefined;
    },
    store,
  );
}
