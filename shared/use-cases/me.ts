/**
 * A user's own directory record: `GET /v1/me` and `PATCH /v1/me`. Only admins and senders put
 * people in the directory (it is who a tenant may notify, and whom a broadcast to everyone
 * reaches), so a user who is not in it gets 404 on both: a token alone does not enrol anyone.
 */
import type { Caller } from '../domain/caller.ts';
import { applyRecipientChanges } from '../domain/recipient.ts';
import type { Recipient } from '../domain/recipient.ts';
import type { UpdateMeBody } from '../domain/schemas.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Clock, RecipientStore } from '../ports.ts';

export interface MeDeps {
  readonly recipients: RecipientStore;
  readonly clock: Clock;
}

/** How many times a change is re-applied after losing a race with another write of the record. */
const saveAttempts = 5;

function notInDirectory(caller: Caller): NotFoundError {
  return new NotFoundError(`You (${caller.sub}) are not in the directory of tenant ${caller.tenantId}; an admin or sender registers recipients`);
}

/** The caller's own record. */
export async function getMe(deps: Pick<MeDeps, 'recipients'>, caller: Caller): Promise<Recipient> {
  const me = await deps.recipients.get(caller.tenantId, caller.sub);
  if (!me) throw notInDirectory(caller);
  return me;
}

/** Sets the caller's email, time zone and channel switches; what the body leaves out is kept. */
export async function updateMe(deps: MeDeps, caller: Caller, body: UpdateMeBody): Promise<Recipient> {
  const { channels } = body;
  const changes = {
    ...(body.email !== undefined ? { email: body.email } : {}),
    ...(body.timezone !== undefined ? { timezone: body.timezone } : {}),
    ...(channels
      ? {
          channels: {
            ...(channels.email !== undefined ? { email: channels.email } : {}),
            ...(channels.websocket !== undefined ? { websocket: channels.websocket } : {}),
          },
        }
      : {}),
  };
  for (let attempt = 0; attempt < saveAttempts; attempt++) {
    const current = await getMe(deps, caller);
    const next = applyRecipientChanges(caller.tenantId, caller.sub, current, changes, deps.clock.now());
    if (await deps.recipients.save(next, current)) return next;
  }
  throw new ConflictError('Your record kept changing while it was being updated; try again');
}
