import { ErrorCode } from '@chat/protocol';
import { BusUnavailableError } from '@chat/cluster';

/** What the HTTP API answers; the transport writes `body` as JSON. */
export interface ApiResponse {
  status: number;
  body: unknown;
}

/** A request decided from its head, or one that needs its body read first. */
export type ApiStep = { answer: Promise<ApiResponse> } | { withBody(body: string): Promise<ApiResponse> };

export function failure(status: number, code: string, message: string): ApiResponse {
  return { status, body: { error: { code, message } } };
}

/** Runs a read or an action of the API; an unreachable bus is a 503 the caller may retry. */
export async function unavailableAs503(read: () => Promise<ApiResponse>): Promise<ApiResponse> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof BusUnavailableError)) throw error;
    return failure(503, ErrorCode.Unavailable, 'the cluster bus is unreachable; try again');
  }
}
