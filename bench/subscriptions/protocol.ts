/**
 * What bench:subscriptions' processes share: the subscription document the clients send (to the
 * API and to the floor alike) and the messages between the runner and its client processes.
 */
import type { SparseHistogram } from '../support/latency-histogram';

/** The fields a progress bar needs: the same selection against the API and the floor. */
export const SUBSCRIPTION_QUERY = `subscription BenchProgress($id: ID!) {
  jobProgress(id: $id) { id status updatedAt progress { done percent updatedAt } }
}`;

/** What the clients read of each message. */
export interface ProgressMessage {
  readonly jobProgress?: {
    readonly id: string;
    readonly updatedAt: string;
    readonly progress: { readonly done: number; readonly percent: number | null; readonly updatedAt: string | null };
  };
}

/** Runner → client process. Every request carries an id; the reply carries it back. */
export type ClientRequest =
  | {
      readonly id: number;
      readonly type: 'open';
      readonly url: string;
      /** Sent as connectionParams.authorization when set. */
      readonly authorization: string | null;
      /** Subscriber `i` (global numbering) watches jobIds[i % jobIds.length]. */
      readonly jobIds: readonly string[];
      readonly from: number;
      readonly to: number;
      /** Sockets opened at once, each batch waited for (first message, error or timeout). */
      readonly batch: number;
      readonly timeoutMs: number;
    }
  | { readonly id: number; readonly type: 'window-start' }
  | { readonly id: number; readonly type: 'window-stop' }
  | { readonly id: number; readonly type: 'status' }
  | { readonly id: number; readonly type: 'close' };

export interface OpenReply {
  readonly subscribed: number;
  readonly failed: number;
  readonly seconds: number;
  /** The first few distinct failures, for the report. */
  readonly failures: readonly string[];
}

export interface WindowReply {
  readonly seconds: number;
  readonly messages: number;
  /** Messages without a progress.updatedAt (no latency for them). */
  readonly undated: number;
  readonly histogram: SparseHistogram;
  /** The client process's own event-loop delay during the window, ms. */
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
  /** CPU the client process used during the window, seconds. */
  readonly cpuSeconds: number;
}

export interface StatusReply {
  /** Connected, acknowledged, subscribed (first message received), not ended. */
  readonly held: number;
  readonly total: number;
  readonly closedCodes: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
}

export type ClientReply =
  { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: string };
