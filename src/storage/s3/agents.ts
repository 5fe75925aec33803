/**
 * The keep-alive agents of the S3 client and of the lean paths: Node's, except that every
 * socket always has an `error` listener.
 *
 * Why: a server may answer a PUT with an error before the body is all sent, then reset the
 * connection (measured on a scripted server: a 403, then a reset). Node hands the answer to the
 * request and lets go of the socket, and the next write of the body fails with ECONNRESET on a
 * socket nobody listens to any more: an uncaught exception, which ended the process, through
 * the SDK as through `node:http` itself. While a request uses the socket, Node's own listener
 * still gets every error and fails the request with it, as before; this listener only keeps a
 * socket that no request owns from throwing.
 */
import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';

/** CONCURRENCY's upper bound (src/config/settings.ts), so no worker waits for a socket. */
export const MAX_SOCKETS = 1000;

/** Options of every agent: keep-alive, and a pool as large as the highest CONCURRENCY. */
const POOL: AgentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS };

const ignore = (): void => undefined;

/** Node's Agent types declare no `createConnection`; this is its shape. */
type CreateConnection = (
  options: object,
  callback?: (error: Error | null, socket: Duplex) => void,
) => Duplex;

function guarded<A extends HttpAgent>(agent: A): A {
  const withCreate = agent as unknown as { createConnection: CreateConnection };
  const create = withCreate.createConnection.bind(agent);
  withCreate.createConnection = (options, callback) => {
    const socket = create(options, callback);
    socket.on('error', ignore);
    return socket;
  };
  return agent;
}

/** A keep-alive agent for `http:` or `https:` whose sockets never throw (see above). */
export function createAgent(isHttps: true, tls?: HttpsAgentOptions): HttpsAgent;
export function createAgent(isHttps: boolean, tls?: HttpsAgentOptions): HttpAgent;
export function createAgent(isHttps: boolean, tls: HttpsAgentOptions = {}): HttpAgent {
  return isHttps ? guarded(new HttpsAgent({ ...POOL, ...tls })) : guarded(new HttpAgent(POOL));
}
