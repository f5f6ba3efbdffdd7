/** WebSocket clients that subscribe, then stop reading: their TCP stays open, the server's sends pile up. */
import WebSocket from 'ws';

export interface StalledSockets {
  /** How many the server has closed so far (seen once reading resumes at the end; the server's metric says it sooner). */
  readonly count: number;
  destroy(): void;
}

/**
 * Opens `count` graphql-ws connections to `wsUrl`, each subscribing to `query`, and once each has
 * its first message stops reading from its TCP socket: no more data, no pong, no close frame read.
 */
export async function stalledSockets(wsUrl: string, authorization: string, query: string, count: number): Promise<StalledSockets> {
  const sockets: WebSocket[] = [];
  const opening = Array.from({ length: count }, async () => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    sockets.push(socket);
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })));
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { type: string };
        if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        if (message.type === 'next') {
          // From now on nothing is read: what the server sends waits in the buffers. (ws resumes its socket by itself
          // once it has handled what it read: that is turned off too.)
          const tcp = (socket as unknown as { _socket: { pause(): unknown; resume(): unknown } })._socket;
          tcp.pause();
          tcp.resume = () => tcp;
          resolve();
        }
      });
      socket.once('close', (code) => reject(new Error(`a stalled socket closed early (${code})`)));
    });
  });
  await Promise.all(opening);
  return {
    count: sockets.length,
    destroy: () => {
      for (const socket of sockets) socket.terminate();
    },
  };
}
