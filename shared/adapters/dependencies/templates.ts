/** Templates (issue 13): every version of each tenant's templates. */
import { once } from '../../config.ts';
import { DynamoTemplateStore } from '../dynamo-template-store.ts';
import { documentClient, tables } from './dynamodb.ts';

/** The template store: the API writes it, the delivering functions read it. */
export const templateStore = /* @__PURE__ */ once(() => new DynamoTemplateStore(documentClient(), tables().templates));
