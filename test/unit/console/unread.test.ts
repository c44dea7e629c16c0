/**
 * The console keeps the newest unread count it heard, as the published client does
 * (client/unread.ts): a frame whose `unreadVersion` is older than the applied one's is dropped, a
 * missing version is 0. The page's copy (console/unread.js) is held equal to the client's here.
 */
import { describe, expect, it } from 'vitest';
import { applyUnread as clientApplyUnread } from '../../../client/unread.ts';
import { applyUnread } from '../../../console/unread.js';
import type { UnreadCount } from '../../../console/unread.js';

/** What a page shows after hearing `messages` in this order. */
function shownAfter(messages: readonly { unread?: number; unreadVersion?: number; type?: string }[]): UnreadCount | undefined {
  let applied: UnreadCount | undefined;
  for (const message of messages) applied = applyUnread(applied, message).count;
  return applied;
}

describe('the console unread count', () => {
  it('drops a frame older than the newest count it applied, whichever order the frames come in', () => {
    // Prepare: a delivery's frame (version 5), a read's frame (version 6), arriving read first
    const delivery = { type: 'notification', unread: 3, unreadVersion: 5 };
    const read = { type: 'inboxChanged', unread: 2, unreadVersion: 6 };

    // Act
    const inOrder = shownAfter([delivery, read]);
    const overtaken = shownAfter([read, delivery]);

    // Assess
    expect(inOrder).toEqual({ unread: 2, unreadVersion: 6 });
    expect(overtaken).toEqual({ unread: 2, unreadVersion: 6 });
    expect(applyUnread({ unread: 2, unreadVersion: 6 }, delivery)).toEqual({ count: { unread: 2, unreadVersion: 6 }, stale: true });
  });

  it('keeps the read count when an older frame arrives after it, and takes a newer one', () => {
    // Act
    const shown = shownAfter([{ unread: 4, unreadVersion: 10 }, { type: 'inboxChanged', unread: 9, unreadVersion: 3 }, { type: 'inboxChanged', unread: 5, unreadVersion: 11 }]);

    // Assess
    expect(shown).toEqual({ unread: 5, unreadVersion: 11 });
  });

  it('takes a count without a version as version 0: applied while nothing newer was, dropped after', () => {
    // Act
    const first = shownAfter([{ type: 'inboxChanged', unread: 4 }]);
    const after = shownAfter([{ type: 'inboxChanged', unread: 5, unreadVersion: 1 }, { type: 'inboxChanged', unread: 4 }]);

    // Assess
    expect(first).toEqual({ unread: 4, unreadVersion: 0 });
    expect(after).toEqual({ unread: 5, unreadVersion: 1 });
  });

  it('leaves the count alone for a frame that carries none', () => {
    // Act
    const shown = shownAfter([{ type: 'inboxChanged', unread: 1, unreadVersion: 2 }, { type: 'notification' }, { type: 'broadcastProgress' }]);

    // Assess
    expect(shown).toEqual({ unread: 1, unreadVersion: 2 });
  });

  it.each<[string, UnreadCount | undefined, { unread?: number; unreadVersion?: number }]>([
    ['nothing applied', undefined, { unread: 1, unreadVersion: 1 }],
    ['an older version', { unread: 1, unreadVersion: 4 }, { unread: 3, unreadVersion: 2 }],
    ['the same version', { unread: 1, unreadVersion: 4 }, { unread: 2, unreadVersion: 4 }],
    ['a newer version', { unread: 1, unreadVersion: 4 }, { unread: 0, unreadVersion: 5 }],
    ['no version', { unread: 1, unreadVersion: 4 }, { unread: 7 }],
    ['no version over version 0', { unread: 1, unreadVersion: 0 }, { unread: 7 }],
    ['no count', { unread: 1, unreadVersion: 4 }, {}],
  ])('decides as the published client does: %s', (_, applied, message) => {
    // Act
    const page = applyUnread(applied, message);
    const client = clientApplyUnread(applied, message);

    // Assess
    expect(page).toEqual(client);
  });
});
