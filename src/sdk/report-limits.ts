/**
 * The limits of a progress report, in one place: the server refuses a report past them
 * (validate-report.ts) and the SDK keeps its reports within them (sdk/worker.ts), so the two can
 * never disagree. No imports: the SDK takes this file as it is.
 */
export const REPORT_LIMITS = {
  /** Reports in one reportProgress call. */
  reportsPerCall: 1000,
  /** done and total: whole-number precision of a double. */
  maxCount: 2 ** 53 - 1,
  unitChars: 50,
  phaseChars: 100,
  messageChars: 1000,
  logLinesPerReport: 50,
  logLineChars: 2000,
  tasksPerReport: 500,
  taskNameChars: 300,
  /**
   * Timeline events (log lines, phase and step changes) the server holds for one job between two
   * flushes; older ones are dropped past this. A client sends at most this many per call.
   */
  queuedEventsPerJob: 500,
} as const;
