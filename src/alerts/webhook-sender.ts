import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { hostOf, isPublicAddress, publicOnlyLookup, RefusedAddressError } from './webhook-address';

export interface SendOptions {
  /** The whole attempt, connection to answer; then it is abandoned as "timed out". */
  readonly timeoutMs: number;
  /** False: private, loopback and link-local receivers are refused (webhook-address.ts). */
  readonly allowPrivateNetworks: boolean;
}

/** What the receiver says is read up to this, only so the connection can be reused; then dropped. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export class TimedOutError extends Error {
  override readonly name = 'TimeoutError';
  constructor() {
    super('timed out');
  }
}

/**
 * POSTs one webhook body and answers the receiver's HTTP status. Redirects are not followed
 * (a 3xx is the answer), the attempt is bounded by `timeoutMs`, and the response body is never
 * buffered: the status settles the attempt as soon as it arrives, and at most
 * MAX_RESPONSE_BYTES of the body are read (then the connection is closed).
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<number> {
  const target = new URL(url);
  const host = hostOf(target);
  // Literal addresses are never looked up, so they are checked here; names in the lookup.
  if (!options.allowPrivateNetworks && isIP(host) !== 0 && !isPublicAddress(host))
    return Promise.reject(new RefusedAddressError(host, host));
  return new Promise<number>((resolve, reject) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(options.allowPrivateNetworks ? {} : { lookup: publicOnlyLookup }),
      },
      (response: IncomingMessage) => {
        resolve(response.statusCode ?? 0);
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) response.destroy();
        });
        response.on('error', () => undefined);
        response.on('close', () => clearTimeout(timer));
      },
    );
    const timer = setTimeout(() => request.destroy(new TimedOutError()), options.timeoutMs);
    timer.unref();
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}
