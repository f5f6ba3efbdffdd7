import type { Logger } from 'pino';
import { WebSocket } from 'ws';

type Emit = (this: WebSocket, event: string | symbol, ...args: unknown[]) => boolean;

/**
 * Every socket's emit, one function per server. Two things on the way to ws's own:
 * - A frame the client got wrong (too large, malformed, bad UTF-8) makes ws close the socket
 *   itself with the protocol's code (1009, 1002, 1007) and emit 'error'; graphql-ws would then
 *   print the error with its stack to stderr (console.error), for any client that sends one.
 *   Such errors are logged here, structured and without a stack, and not passed on.
 * - A message goes on as the text graphql-ws makes of it anyway (`String(data)`): graphql-ws's
 *   handler of a subscribe message waits for the whole subscription, holding its argument, and
 *   a Buffer would keep its bytes twice for that long (about 450 bytes per subscriber).
 */
export function quietEmitter(log: Logger): WebSocket['emit'] {
  return function quietEmit(this: WebSocket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message' && Buffer.isBuffer(args[0])) {
      args[0] = args[0].toString();
    } else if (event === 'error') {
      const error = args[0] as { code?: unknown; message?: unknown } | undefined;
      if (typeof error?.code === 'string' && error.code.startsWith('WS_ERR_')) {
        log.info(
          { code: error.code, reason: String(error.message).slice(0, 200) },
          'a WebSocket client sent a frame the protocol refuses; closed',
        );
        return true;
      }
    }
    return (WebSocket.prototype.emit as Emit).call(this, event, ...args);
  } as WebSocket['emit'];
}
