/** Posting to WebSocket connections (the API Gateway Management API), made once per cold start. */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { once, websocketCallbackUrl } from '../../config.ts';
import { ApiGatewaySocketPoster } from '../api-gateway-socket-poster.ts';
import { sdkClientOptions } from '../sdk-clients.ts';
import { withoutSdkLogger } from '../sdk-logger.ts';

/** Posts frames to the stage's connections, and drops them. */
export const socketPoster = /* @__PURE__ */ once(
  () => new ApiGatewaySocketPoster(withoutSdkLogger(new ApiGatewayManagementApiClient({ ...sdkClientOptions(), endpoint: websocketCallbackUrl() }))),
);
