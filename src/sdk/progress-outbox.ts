import type { Report } from './pending-progress';

export type SequencedReport = Report & { sequence: number };

/**
 * One job's progress reports once numbered: sent (again and again) until the server says they
 * are stored, in a reportProgress answer or a heartbeat's `storedSequence`. The server stores
 * each sequence once, so sending one again is always safe; only a report it refused as invalid
 * is dropped, and the ones after it take its number (nothing of that call was stored).
 */
export class ProgressOutbox {
  private reports: SequencedReport[] = [];
  private next = 1;

  get isEmpty(): boolean {
    return this.reports.length === 0;
  }

  /** The reports to send, oldest first. */
  get entries(): readonly SequencedReport[] {
    return this.reports;
  }

  /** Numbers new reports, after those kept. */
  add(reports: readonly Report[]): void {
    for (const report of reports) this.reports.push({ ...report, sequence: this.next++ });
  }

  /** The server has stored every report up to `storedSequence`. */
  acknowledge(storedSequence: number): void {
    if (this.reports.length > 0 && (this.reports[0] as SequencedReport).sequence <= storedSequence) {
      this.reports = this.reports.filter((report) => report.sequence > storedSequence);
    }
  }

  /** Drops reports the server refused as invalid; the later ones take their numbers. */
  drop(refused: ReadonlySet<SequencedReport>): void {
    const first = Math.min(...this.reports.filter((report) => refused.has(report)).map((report) => report.sequence));
    if (!Number.isFinite(first)) return;
    this.renumber(
      this.reports.filter((report) => !refused.has(report)),
      first,
    );
  }

  /**
   * After a SEQUENCE_GAP answer: the server has stored up to `storedSequence`. Answers how many
   * reports between it and the first one kept are gone for good (0 unless something was lost),
   * and numbers the kept ones right after what is stored.
   */
  resync(storedSequence: number): number {
    this.acknowledge(storedSequence);
    const first = this.reports[0]?.sequence ?? this.next;
    const missing = Math.max(0, first - storedSequence - 1);
    if (missing > 0) this.renumber(this.reports, storedSequence + 1);
    return missing;
  }

  private renumber(kept: readonly SequencedReport[], from: number): void {
    let next = from;
    this.reports = kept.map((report) => (report.sequence < from ? report : { ...report, sequence: next++ }));
    this.next = Math.max(next, (this.reports.at(-1)?.sequence ?? from - 1) + 1);
  }
}
