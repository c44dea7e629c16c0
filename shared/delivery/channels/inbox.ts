/**
 * The persistent in-app inbox: Herald's own table, written together with the unit's outcome in
 * one transaction (the item, the unread counter, the unit's next state), so it needs no intent:
 * its write is conditional and happens once. It cannot be switched off.
 */
import type { DeliveryChannel } from '../channel.ts';

/** The inbox channel: nothing to send, the engine's commit writes the item. */
export function inboxChannel(): DeliveryChannel<true, undefined> {
  return {
    name: 'inbox',
    kind: 'store',
    needs: [],
    target: () => true,
    render: () => undefined,
    send() {
      return Promise.reject(new Error('The inbox is written by the commit, not sent'));
    },
    classify: () => ({ kind: 'transient' }),
  };
}
