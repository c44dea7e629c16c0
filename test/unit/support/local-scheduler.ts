/**
 * The local EventBridge Scheduler of the test account (eu-west-1, 111122223333) with Herald's
 * schedule group (`herald`), at a fixed instant whose timers never run: schedules are made, read
 * and deleted, never fired. Its faultable endpoint goes through `hook` (local/aws-call-hook.ts).
 */
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { CallHook } from '../../../local/aws-call-hook.ts';
import { startSchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import type { SchedulerEmulator } from '../../../local/scheduler-emulator.ts';

/** Starts the Scheduler frozen at `now` (ISO 8601), with the `herald` group; `hook` sees the faultable endpoint's calls. */
export async function startLocalScheduler(now: string, hook: CallHook = () => undefined): Promise<SchedulerEmulator & { readonly faultableEndpoint: string }> {
  const scheduler = await startSchedulerEmulator({
    region: 'eu-west-1',
    accountId: '111122223333',
    sqsEndpoint: 'http://127.0.0.1:1',
    clock: { now: () => Date.parse(now), setTimer: () => ({ cancel: () => undefined }) },
    faultable: { hook },
    log: () => undefined,
  });
  const client = new SchedulerClient({ region: 'eu-west-1', endpoint: scheduler.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    await client.send(new CreateScheduleGroupCommand({ Name: 'herald' }));
  } finally {
    client.destroy();
  }
  const { faultableEndpoint } = scheduler;
  if (!faultableEndpoint) throw new Error('the Scheduler has no faultable endpoint');
  return { ...scheduler, faultableEndpoint };
}
