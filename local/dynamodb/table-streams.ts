/**
 * A table's `StreamSpecification`, which dynalite neither validates nor keeps: read from
 * CreateTable (kept in the table's stored description with `LatestStreamArn` and
 * `LatestStreamLabel`, so DescribeTable shows them), and from an UpdateTable that enables or
 * disables the stream.
 *
 * Sources: the CreateTable, UpdateTable and StreamSpecification API references.
 */
import { dynaliteDb } from './dynalite.ts';
import type { DynaliteStore, Json } from './dynalite.ts';
import { runGuarded } from './guarded-actions.ts';
import { streamViewTypes } from './stream-records.ts';
import type { StreamViewType } from './stream-records.ts';
import { newStreamArn } from './streams.ts';
import type { StreamedTableDescription } from './streams.ts';
import type { TableSchemas } from './tables.ts';

export interface StreamSpecification {
  readonly StreamEnabled: boolean;
  readonly StreamViewType?: StreamViewType;
}

/** The request's StreamSpecification, validated as AWS does; undefined when it has none. */
export function streamSpecificationOf(request: Json): StreamSpecification | undefined {
  const spec = request.StreamSpecification;
  if (spec === undefined || spec === null) return undefined;
  if (typeof spec !== 'object' || Array.isArray(spec)) throw dynaliteDb.validationError('StreamSpecification must be a structure');
  const { StreamEnabled, StreamViewType } = spec as { StreamEnabled?: unknown; StreamViewType?: unknown };
  if (typeof StreamEnabled !== 'boolean') {
    throw dynaliteDb.validationError(
      "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null",
    );
  }
  if (StreamViewType !== undefined && !streamViewTypes.includes(StreamViewType as StreamViewType)) {
    throw dynaliteDb.validationError(
      `1 validation error detected: Value '${String(StreamViewType)}' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [${streamViewTypes.join(', ')}]`,
    );
  }
  if (StreamEnabled && StreamViewType === undefined) {
    throw dynaliteDb.validationError('One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true');
  }
  if (!StreamEnabled && StreamViewType !== undefined) {
    throw dynaliteDb.validationError('One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false');
  }
  return { StreamEnabled, ...(StreamViewType !== undefined ? { StreamViewType: StreamViewType as StreamViewType } : {}) };
}

function tableArnOf(store: DynaliteStore, tableName: string): string {
  const { awsRegion, awsAccountId } = store.tableDb as unknown as { awsRegion: string; awsAccountId: string };
  return `arn:aws:dynamodb:${awsRegion}:${awsAccountId}:table/${tableName}`;
}

/** The stream fields a CreateTable adds to the description dynalite stores (none for a disabled or absent stream). */
export function streamFieldsOnCreate(store: DynaliteStore, request: Json, now: number = Date.now()): Json {
  const spec = streamSpecificationOf(request);
  if (!spec?.StreamEnabled) return {};
  const { arn, label } = newStreamArn(tableArnOf(store, String(request.TableName)), now);
  return { StreamSpecification: spec, LatestStreamArn: arn, LatestStreamLabel: label };
}

/**
 * UpdateTable with a StreamSpecification: enables a new stream (a new ARN) or disables the
 * current one. Only alone: the local endpoint refuses it beside other changes. Answers
 * `{ TableDescription }`, as UpdateTable does.
 */
export async function updateTableStream(store: DynaliteStore, tables: TableSchemas, request: Json, now: number = Date.now()): Promise<Json> {
  const spec = streamSpecificationOf(request) as StreamSpecification;
  const others = Object.keys(request).filter((key) => key !== 'TableName' && key !== 'StreamSpecification');
  if (others.length > 0) throw dynaliteDb.validationError(`The local endpoint updates StreamSpecification alone, not with ${others.join(', ')}`);
  const name = String(request.TableName);
  tables.forget(name);
  try {
    return await runGuarded<Json>(store, (guarded, done) =>
      guarded.tableDb.lock(name, (release) => {
        const finish = release(done);
        guarded.getTable(name, false, (error, found) => {
          if (error || !found) return finish(error ?? new Error(`No table ${name}`));
          const table = found as StreamedTableDescription;
          const enabled = table.StreamSpecification?.StreamEnabled === true;
          if (spec.StreamEnabled && enabled) return finish(dynaliteDb.validationError(`Table already has an enabled stream: ${table.LatestStreamArn ?? ''}`));
          if (!spec.StreamEnabled && !enabled) return finish(dynaliteDb.validationError('Table does not have an enabled stream'));
          const stream = spec.StreamEnabled ? newStreamArn(tableArnOf(store, name), now) : undefined;
          const updated = {
            ...table,
            StreamSpecification: spec,
            ...(stream ? { LatestStreamArn: stream.arn, LatestStreamLabel: stream.label } : {}),
          };
          guarded.tableDb.put(name, updated, (putError) => finish(putError ?? null, { TableDescription: updated }));
        });
      }),
    );
  } finally {
    tables.forget(name);
  }
}
