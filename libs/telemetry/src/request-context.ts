import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The id of the HTTP request being served: the service logger's mixin adds it to every line written
 * while it is served (reqId), so nothing per request is built unless a line is written.
 */
export const requestIds = new AsyncLocalStorage<number>();
