import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/** A frame the server sent. */
export interface Frame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/**
 * A WebSocket client written by hand over TCP that never answers anything the protocol asks
 * (close frames, pings) and never closes its side of the connection, even once the server has
 * closed its own: a client that has hung. `ws` (and a plain socket) would answer by
 * themselves, so they cannot play this part.
 */
export interface DeafWebSocket {
  /** Sends a text message (masked, as a client must). */
  send(text: string): void;
  readonly frames: Frame[];
  /** The text messages so far. */
  texts(): string[];
  /** Waits for a frame matching `predicate`. */
  until(predicate: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Stops reading from the connection (what the server sends stays in the buffers), and starts again. */
  pause(): void;
  resume(): void;
  /** Settles once the server has closed its side of the connection (this side stays open until destroy()). */
  readonly ended: Promise<void>;
  destroy(): void;
}

export async function deafWebSocket(httpUrl: string, protocol = 'graphql-transport-ws'): Promise<DeafWebSocket> {
  const url = new URL(httpUrl);
  const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true });
  socket.on('error', () => undefined);
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  let buffer = Buffer.alloc(0);
  let upgraded = false;

  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.write(
        [
          `GET ${url.pathname} HTTP/1.1`,
          `Host: ${url.host}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
          'Sec-WebSocket-Version: 13',
          `Sec-WebSocket-Protocol: ${protocol}`,
          '',
          '',
        ].join('\r\n'),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        buffer = buffer.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) {
          reject(new Error(`the upgrade was refused: ${head.split('\r\n')[0]}`));
          return;
        }
        upgraded = true;
        resolve();
      }
      // Server frames are not masked: FIN/opcode, length (7 bits, or 16 or 64 more), payload.
      for (;;) {
        if (buffer.length < 2) break;
        const opcode = buffer[0]! & 0x0f;
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) break;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) break;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) break;
        frames.push({ opcode, payload: Buffer.from(buffer.subarray(offset, offset + length)) });
        buffer = buffer.subarray(offset + length);
      }
      for (const waiter of [...waiters]) waiter();
    });
    socket.once('close', () => reject(new Error('closed during the upgrade')));
  });

  const ended = new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
  });
  return {
    send(text) {
      const payload = Buffer.from(text);
      const mask = randomBytes(4);
      const header =
        payload.length < 126
          ? Buffer.from([0x81, 0x80 | payload.length])
          : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
      const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
      socket.write(Buffer.concat([header, mask, masked]));
    },
    frames,
    texts: () => frames.filter((frame) => frame.opcode === 0x1).map((frame) => frame.payload.toString()),
    until(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.find(predicate);
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no such frame within ${timeoutMs} ms; got ${JSON.stringify(frames.map((frame) => [frame.opcode, frame.payload.toString()]))}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    ended,
    destroy: () => socket.destroy(),
  };
}
