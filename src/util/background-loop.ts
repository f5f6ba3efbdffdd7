/**
 * Runs `work` in the background: on a timer, and whenever `wake()` is called (a notification);
 * never twice at once, and a wake-up during a run means one more run after it, so no signal is
 * lost between a run's last read and its end.
 */
export class BackgroundLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private active = false;

  constructor(
    private readonly work: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.active = true;
    this.timer = setInterval(() => this.wake(), this.intervalMs);
    this.timer.unref();
    this.wake();
  }

  wake(): void {
    if (!this.active) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.work()
      .then(() => undefined, this.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.active = false;
    clearInterval(this.timer);
    await this.running;
  }
}
