/** Builders of domain values and AWS-shaped errors for unit tests. */
import type { Caller } from '../../../shared/domain/caller.ts';
import { newNotificationId } from '../../../shared/domain/ids.ts';
import type { Notification } from '../../../shared/domain/notification.ts';
import type { Recipient } from '../../../shared/domain/recipient.ts';
import type { RecurringNotification } from '../../../shared/domain/recurring.ts';

export const tenantId = 'acme';

export const admin: Caller = { sub: 'alice-admin', tenantId, roles: ['admin'] };
export const sender: Caller = { sub: 'sam-sender', tenantId, roles: ['sender'] };
export const plainUser: Caller = { sub: 'bob', tenantId, roles: [] };

/** A recipient of the test tenant. */
export function aRecipient(overrides: Partial<Recipient> = {}): Recipient {
  return {
    tenantId,
    id: 'bob',
    email: 'bob@example.com',
    groups: [],
    createdAt: '2029-12-01T00:00:00.000Z',
    updatedAt: '2029-12-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A pending notification for `bob`, due at noon on 2030-01-01. */
export function aNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    tenantId,
    id: newNotificationId(new Date('2029-12-31T00:00:00.000Z')),
    recipientId: 'bob',
    createdBy: sender.sub,
    title: 'Standup',
    message: 'Standup starts in 5 minutes',
    type: 'reminder',
    priority: 'normal',
    channels: ['inbox', 'websocket', 'email'],
    status: 'pending',
    scheduledAt: '2030-01-01T12:00:00.000Z',
    createdAt: '2029-12-31T00:00:00.000Z',
    attempts: 0,
    deliveries: {},
    ...overrides,
  };
}

/** An error shaped like an AWS SDK service exception. */
export function awsError(name: string, httpStatusCode?: number, message = `${name} happened`): Error {
  const error = new Error(message) as Error & { $metadata: { httpStatusCode?: number } };
  error.name = name;
  error.$metadata = httpStatusCode === undefined ? {} : { httpStatusCode };
  return error;
}

/** An active daily recurring notification of `tenantId` to bob and carol, created by a sender. */
export function aRecurringDefinition(overrides: Partial<RecurringNotification> = {}): RecurringNotification {
  return {
    tenantId,
    id: 'rec_01J0000000000000000000000A',
    createdBy: 'sam-sender',
    createdByRoles: ['sender'],
    recipients: ['bob', 'carol'],
    title: 'Standup',
    message: 'At 9',
    type: 'reminder',
    priority: 'normal',
    schedule: { rate: '1 day', timezone: 'UTC' },
    status: 'active',
    occurrences: [],
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    ...overrides,
  };
}
