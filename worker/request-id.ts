/**
 * The activity side of the request id (common/request-id.ts): an activity interceptor,
 * installed on every saga worker (worker/worker.ts), that reads the request id header the
 * workflow passed to the activity (workflows/request-id-interceptors.ts) and puts it into
 * the attributes of the activity's log records (`log` of @temporalio/activity and the
 * SDK's own "Activity started/completed/failed" records). Normal and local activities alike.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { REQUEST_ID_LOG_ATTRIBUTE, requestIdOf } from '../common/request-id.ts';

/** Activity interceptors: request id header in, `requestId` log attribute out. */
export const requestIdActivityInterceptor: ActivityInterceptorsFactory = () => {
  let requestId: string | undefined;
  return {
    inbound: {
      execute(input, next) {
        requestId = requestIdOf(input.headers);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next(requestId === undefined ? input : { ...input, [REQUEST_ID_LOG_ATTRIBUTE]: requestId });
      },
    },
  };
};
