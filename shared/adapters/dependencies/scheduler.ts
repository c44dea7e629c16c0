/** The EventBridge Scheduler client of a function, made once per cold start on first use. */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { once } from '../../config.ts';
import { sdkClientOptions } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';

/** One client for every schedule a function creates or deletes. */
export const schedulerClient = /* @__PURE__ */ once(() => withoutSdkLogger(new SchedulerClient(sdkClientOptions())));
