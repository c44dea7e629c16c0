/** Frames to WebSocket clients through the API Gateway Management API (`@connections`). */
import { DeleteConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { SocketPoster } from '../ports.ts';

export class ApiGatewaySocketPoster implements SocketPoster {
  private readonly client: ApiGatewayManagementApiClient;

  constructor(client: ApiGatewayManagementApiClient) {
    this.client = client;
  }

  async post(connectionId: string, payload: unknown): Promise<'posted' | 'gone'> {
    try {
      await this.client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode(JSON.stringify(payload)) }),
      );
      return 'posted';
    } catch (error) {
      // 410: the client went away without a $disconnect we saw; never retry it.
      if (error instanceof GoneException) return 'gone';
      throw error;
    }
  }

  async disconnect(connectionId: string): Promise<'closed' | 'gone'> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      return 'closed';
    } catch (error) {
      if (error instanceof GoneException) return 'gone';
      throw error;
    }
  }
}
