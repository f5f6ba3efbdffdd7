/** Whoever makes a request: a person or a worker, identified by the JWT's `sub`. */
export interface Principal {
  readonly id: string;
  readonly name: string | null;
  /** Seconds since the epoch when the token stops being valid. */
  readonly expiresAt: number;
}
