/**
 * The cursor of the recurring definitions' listing: one it hands out is taken; a forged one,
 * whose position is not a definition's id (empty, or any other text a key condition would refuse
 * on AWS), is a 400 naming `cursor` before anything is read.
 */
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../../../shared/domain/page-cursor.ts';
import type { RecurringNotification } from '../../../../shared/domain/recurring.ts';
import { ValidationError } from '../../../../shared/errors.ts';
import { listRecurring } from '../../../../shared/use-cases/recurring.ts';
import { admin, tenantId } from '../../fakes/fixtures.ts';
import { InMemoryRecurringStore } from '../../fakes/recurring-store.ts';

const createdAt = '2030-01-01T00:00:00.000Z';

function aDefinition(id: string): RecurringNotification {
  return {
    tenantId,
    id,
    createdBy: admin.sub,
    createdByRoles: admin.roles,
    recipients: ['bob'],
    title: 'Digest',
    message: 'Hello',
    type: 'reminder',
    priority: 'normal',
    schedule: { cron: '0 9 * * *', timezone: 'UTC' },
    status: 'active',
    occurrences: [],
    createdAt,
    updatedAt: createdAt,
    scheduleSetAt: createdAt,
  };
}

describe('listing recurring definitions page by page', () => {
  it('takes a cursor positioned after a definition\'s id, as it hands them out', async () => {
    // Prepare
    const store = new InMemoryRecurringStore();
    await store.put(aDefinition('rec_01J0000000000000000000000B'));

    // Act
    const page = await listRecurring({ recurring: store }, admin, { limit: 10, cursor: encodeCursor({ recurring: true, after: 'rec_01J0000000000000000000000A' }) });

    // Assess
    expect(page.items.map((r) => r.id)).toEqual(['rec_01J0000000000000000000000B']);
  });

  it.each(['', 'x', 'rec_#', 'z'.repeat(600)])('refuses a forged cursor positioned after %j with a 400 naming cursor', async (after) => {
    // Prepare
    const store = new InMemoryRecurringStore();
    const reads: unknown[] = [];
    const spied = { list: async (...args: Parameters<InMemoryRecurringStore['list']>) => (reads.push(args), store.list(...args)) };

    // Act
    const refusal = await listRecurring({ recurring: spied as unknown as InMemoryRecurringStore }, admin, { limit: 10, cursor: encodeCursor({ recurring: true, after }) }).catch((error: unknown) => error);

    // Assess
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).details).toEqual([{ field: 'cursor', message: 'is not a cursor of this listing' }]);
    expect(reads).toEqual([]);
  });
});
