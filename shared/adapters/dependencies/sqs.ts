/** The SQS client of a function, made once per cold start on first use. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { once } from '../../config.ts';
import { sdkClientOptions } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';

/**
 * Queue URLs name their own host; send to the configured endpoint instead, which is the regional
 * one on AWS and `AWS_ENDPOINT_URL_SQS` where that is set.
 */
export const sqsClient = /* @__PURE__ */ once(() => withoutSdkLogger(new SQSClient({ ...sdkClientOptions(), useQueueUrlAsEndpoint: false })));
