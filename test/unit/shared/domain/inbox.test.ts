/** The unread count with its version, as the inbox's frames carry it (shared/domain/inbox.ts). */
import { describe, expect, it } from 'vitest';
import { countAfterAdding, inboxChangedMessage, noUnreadCount } from '../../../../shared/domain/inbox.ts';
import { toSocketFrame } from '../../../../shared/domain/delivery.ts';

describe('the unread count and its version', () => {
  it('moves the count and the version one up together when an item is added', () => {
    // Act
    const after = countAfterAdding({ unread: 4, unreadVersion: 17 });

    // Assess
    expect(after).toEqual({ unread: 5, unreadVersion: 18 });
  });

  it('starts from nothing unread at version 0, as a counter written before versions reads', () => {
    // Act
    const first = countAfterAdding(noUnreadCount);

    // Assess
    expect(noUnreadCount).toEqual({ unread: 0, unreadVersion: 0 });
    expect(first).toEqual({ unread: 1, unreadVersion: 1 });
  });

  it('tells the count with its version in an inboxChanged frame, and nothing else of the live state', () => {
    // Act
    const frame = inboxChangedMessage({ unread: 2, unreadVersion: 9, connections: [] } as Parameters<typeof inboxChangedMessage>[0]);

    // Assess
    expect(frame).toEqual({ type: 'inboxChanged', unread: 2, unreadVersion: 9 });
  });

  it('gives the notification frame of a delivery the count and version its write makes', () => {
    // Prepare: the recipient's count as the delivery loaded it
    const loaded = { unread: 0, unreadVersion: 41 };

    // Act
    const frame = toSocketFrame(
      { id: 'ntf_1', title: 'Hi', message: 'there', type: 'reminder', priority: 'normal', createdAt: '2030-01-01T00:00:00.000Z', scheduledAt: '2030-01-01T00:00:00.000Z' },
      countAfterAdding(loaded),
    );

    // Assess
    expect(frame).toMatchObject({ type: 'notification', unread: 1, unreadVersion: 42 });
  });
});
