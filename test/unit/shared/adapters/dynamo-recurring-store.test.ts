/**
 * The recurring store on the real DynamoDB protocol: a definition's change and its occurrences,
 * written side by side, never undo each other, and a change never makes a deleted definition again.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keyPart } from '../../../../shared/adapters/dynamo-keys.ts';
import { DynamoRecurringStore, markerRetentionSeconds } from '../../../../shared/adapters/dynamo-recurring-store.ts';
import type { RecurringNotification } from '../../../../shared/domain/recurring.ts';
import { racingClient, startLocalDynamo } from '../../support/local-dynamo.ts';
import type { LocalDynamo } from '../../support/local-dynamo.ts';

let dynamo: LocalDynamo;
let store: DynamoRecurringStore;
let ids = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo({ withTables: true });
  store = new DynamoRecurringStore(dynamo.documentClient, () => 'recurring');
});

afterAll(async () => {
  await dynamo?.stop();
});

function aDefinition(): RecurringNotification {
  return {
    tenantId: 'acme',
    id: `rec_01J00000000000000000000${String(++ids).padStart(3, '0')}`,
    createdBy: 'sam',
    createdByRoles: ['sender'],
    recipients: ['bob'],
    title: 'Standup',
    message: 'At 9',
    type: 'reminder',
    priority: 'normal',
    data: { room: 'blue' },
    schedule: { rate: '1 day', timezone: 'UTC' },
    status: 'active',
    occurrences: [],
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
  };
}

describe('DynamoRecurringStore', () => {
  it('keeps an occurrence recorded between the read of a change and its write', async () => {
    // Prepare: a change read before the occurrence was recorded
    const definition = aDefinition();
    await store.put(definition);
    const read = await store.get(definition.tenantId, definition.id);
    await store.recordOccurrence(definition.tenantId, definition.id, { at: '2030-01-02T09:00:00.000Z', notificationIds: ['ntf_1'] });

    // Act
    const updated = await store.update({ ...(read as RecurringNotification), title: 'Daily standup', data: { room: 'red' }, updatedAt: '2030-01-02T10:00:00.000Z' });

    // Assess
    expect(updated).toBe(true);
    expect(await store.get(definition.tenantId, definition.id)).toEqual({
      ...definition,
      title: 'Daily standup',
      data: { room: 'red' },
      updatedAt: '2030-01-02T10:00:00.000Z',
      occurrences: [{ at: '2030-01-02T09:00:00.000Z', notificationIds: ['ntf_1'] }],
    });
  });

  it('writes nothing for a change of a definition deleted meanwhile, and answers false', async () => {
    // Prepare
    const definition = aDefinition();
    await store.put(definition);
    await store.remove(definition.tenantId, definition.id);

    // Act
    const updated = await store.update({ ...definition, title: 'Again' });

    // Assess
    expect(updated).toBe(false);
    expect(await store.get(definition.tenantId, definition.id)).toBeUndefined();
  });

  it('keeps both of two occurrences recorded at once: the later write reads the list again', async () => {
    // Prepare: a second worker records its occurrence right after the first one read the list
    const definition = aDefinition();
    await store.put(definition);
    const first = racingClient(dynamo, 'GetItemCommand', async () => {
      await store.recordOccurrence(definition.tenantId, definition.id, { at: '2030-01-03T09:00:00.000Z', notificationIds: ['ntf_b'] });
    });
    const racing = new DynamoRecurringStore(first.client, () => 'recurring');

    // Act
    await racing.recordOccurrence(definition.tenantId, definition.id, { at: '2030-01-02T09:00:00.000Z', notificationIds: ['ntf_a'] });

    // Assess: newest first, both kept
    expect(first.raced()).toBe(true);
    expect((await store.get(definition.tenantId, definition.id))?.occurrences).toEqual([
      { at: '2030-01-03T09:00:00.000Z', notificationIds: ['ntf_b'] },
      { at: '2030-01-02T09:00:00.000Z', notificationIds: ['ntf_a'] },
    ]);
  });

  it('records nothing on a definition deleted before its occurrence is written', async () => {
    // Prepare
    const definition = aDefinition();
    await store.put(definition);
    await store.remove(definition.tenantId, definition.id);

    // Act
    await store.recordOccurrence(definition.tenantId, definition.id, { at: '2030-01-02T09:00:00.000Z', notificationIds: ['ntf_1'] });

    // Assess: not made again by the record
    expect(await store.get(definition.tenantId, definition.id)).toBeUndefined();
  });

  it('puts an occurrence on the list when its message comes back, if the list\'s write failed after the marker\'s', async () => {
    // Prepare: the occurrence is claimed; every write of the list then conflicts, so its record throws
    const definition = aDefinition();
    await store.put(definition);
    const at = '2030-01-05T09:00:00.000Z';
    expect(await store.claimOccurrence(definition.tenantId, definition.id, at, new Date('2030-01-05T09:00:01.000Z'))).toBe('claimed');
    const send = dynamo.documentClient.send.bind(dynamo.documentClient);
    const spy = vi.spyOn(dynamo.documentClient, 'send').mockImplementation(((command: { input?: { UpdateExpression?: string } }) => {
      if (command.input?.UpdateExpression?.includes('occurrencesVersion')) return Promise.reject(new ConditionalCheckFailedException({ message: 'conflict', $metadata: {} }));
      return send(command as never);
    }) as never);
    const recorded = await store.recordOccurrence(definition.tenantId, definition.id, { at, notificationIds: ['ntf_x'] }).then(
      () => 'recorded',
      (error: unknown) => error,
    );
    spy.mockRestore();

    // Act: the message comes back (its handler failed)
    const claim = await store.claimOccurrence(definition.tenantId, definition.id, at, new Date('2030-01-05T09:05:00.000Z'));

    // Assess: done (nothing is created again), and now on the list
    expect(recorded).toBeInstanceOf(ConditionalCheckFailedException);
    expect(claim).toBe('done');
    expect((await store.get(definition.tenantId, definition.id))?.occurrences).toEqual([{ at, notificationIds: ['ntf_x'] }]);
  });

  it('keeps the marker of a deletion, when it was, out of the listing and apart from the other definitions and tenants', async () => {
    // Prepare: two definitions of one tenant; the first is deleted
    const deleted = aDefinition();
    const kept = aDefinition();
    await store.put(deleted);
    await store.put(kept);

    // Act
    await store.markDeleted(deleted.tenantId, deleted.id, new Date('2030-01-03T08:00:00.000Z'));
    await store.remove(deleted.tenantId, deleted.id);

    // Assess: kept as long as an occurrence's marker (DynamoDB's TTL, in seconds)
    const marker = await dynamo.documentClient.send(new GetCommand({ TableName: 'recurring', Key: { pk: `${keyPart(deleted.tenantId)}#${deleted.id}#deleted` } }));
    expect(marker.Item?.expiresAt).toBe(Date.parse('2030-01-03T08:00:00.000Z') / 1000 + markerRetentionSeconds);
    expect(await store.deletedAt(deleted.tenantId, deleted.id)).toBe('2030-01-03T08:00:00.000Z');
    expect(await store.deletedAt(kept.tenantId, kept.id)).toBeUndefined();
    expect(await store.deletedAt('other-tenant', deleted.id)).toBeUndefined();
    expect(await store.get(deleted.tenantId, deleted.id)).toBeUndefined();
    expect((await store.list(deleted.tenantId, 100)).items.map((r) => r.id)).not.toContain(deleted.id);
    expect((await store.list(deleted.tenantId, 100)).items.map((r) => r.id)).toContain(kept.id);
  });

  it('takes the marker of a deletion back, and takes back none without an error', async () => {
    // Prepare
    const definition = aDefinition();
    await store.markDeleted(definition.tenantId, definition.id, new Date('2030-01-03T08:00:00.000Z'));

    // Act
    await store.unmarkDeleted(definition.tenantId, definition.id);
    await store.unmarkDeleted(definition.tenantId, definition.id);

    // Assess
    expect(await store.deletedAt(definition.tenantId, definition.id)).toBeUndefined();
  });
});
