import { AppError, BadUserInputError, ErrorCode } from '../../errors';
import { STEP_ORDER } from '../../jobs/job-status';
import { parseLease, type Lease } from '../lease';
import type { ProgressReport } from '../worker.types';
import { REPORT_LIMITS as LIMITS } from '../../sdk/report-limits';

const TASK_STATUSES = new Set(['WAITING', 'PROCESSING', 'COMPLETED', 'FAILED']);
/** The invalid reports an error lists by index; past this many, the first ones. */
const LISTED_INVALID = 100;

class Invalid extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

function count(value: number | null | undefined, field: string): void {
  if (value == null) return;
  if (!Number.isFinite(value) || value < 0 || value > LIMITS.maxCount) throw new Invalid(`${field} must be a number from 0 to 2^53`, field);
}

function text(value: string | null | undefined, max: number, field: string): void {
  if (value != null && value.length > max) throw new Invalid(`${field} must be at most ${max} characters`, field);
}

function checkReport(report: ProgressReport, at: string): Lease {
  let lease: Lease;
  try {
    lease = parseLease(report.lease, `${at}.lease`);
  } catch (error) {
    throw new Invalid((error as Error).message, `${at}.lease`);
  }
  if (report.sequence != null && report.sequence < 1) throw new Invalid(`${at}.sequence must be 1 or more`, `${at}.sequence`);
  if (report.at != null && Number.isNaN(report.at.getTime())) throw new Invalid(`${at}.at is not a date-time`, `${at}.at`);
  count(report.done, `${at}.done`);
  count(report.total, `${at}.total`);
  text(report.unit, LIMITS.unitChars, `${at}.unit`);
  text(report.phase, LIMITS.phaseChars, `${at}.phase`);
  text(report.message, LIMITS.messageChars, `${at}.message`);
  if (report.step != null && !STEP_ORDER.includes(report.step)) throw new Invalid(`${at}.step is not a step`, `${at}.step`);
  if (report.log != null) {
    if (report.log.length > LIMITS.logLinesPerReport)
      throw new Invalid(`${at}.log may hold at most ${LIMITS.logLinesPerReport} lines`, `${at}.log`);
    report.log.forEach((line, lineIndex) => text(line, LIMITS.logLineChars, `${at}.log[${lineIndex}]`));
  }
  if (report.tasks != null) {
    if (report.tasks.length > LIMITS.tasksPerReport)
      throw new Invalid(`${at}.tasks may hold at most ${LIMITS.tasksPerReport} tasks`, `${at}.tasks`);
    report.tasks.forEach((task, taskIndex) => {
      const where = `${at}.tasks[${taskIndex}]`;
      if (task.name.length === 0 || task.name.length > LIMITS.taskNameChars) {
        throw new Invalid(`${where}.name must be 1 to ${LIMITS.taskNameChars} characters`, `${where}.name`);
      }
      if (task.status != null && !TASK_STATUSES.has(task.status))
        throw new Invalid(`${where}.status is not a task status`, `${where}.status`);
      count(task.done, `${where}.done`);
      count(task.total, `${where}.total`);
      text(task.unit, LIMITS.unitChars, `${where}.unit`);
      text(task.message, LIMITS.messageChars, `${where}.message`);
    });
  }
  return lease;
}

/**
 * Within one call, a lease's reports are all sequenced or all not, and sequenced ones follow
 * each other (n, n + 1, ...): anything else is a client's bug, refused before anything is taken.
 * Across calls the sequence is checked against what is stored (progress-buffer.ts).
 */
function checkSequence(report: ProgressReport, lease: Lease, sequences: Map<string, number | null>, at: string): void {
  const key = `${lease.jobId}.${lease.token}`;
  const sequence = report.sequence ?? null;
  if (!sequences.has(key)) {
    sequences.set(key, sequence);
    return;
  }
  const previous = sequences.get(key) as number | null;
  if ((previous === null) !== (sequence === null)) {
    throw new Invalid(`${at}.sequence: a lease's reports are either all sequenced or all not`, `${at}.sequence`);
  }
  if (previous !== null && sequence !== previous + 1) {
    throw new Invalid(`${at}.sequence must be ${previous + 1}: the lease's reports in one call follow each other`, `${at}.sequence`);
  }
  sequences.set(key, sequence);
}

/**
 * Checks a batch of reports at the boundary and parses their leases. A batch with an invalid
 * report is refused whole (BAD_USER_INPUT naming the first bad field), and the error lists the
 * index of every invalid report in `extensions.invalidReports`, so that a client can drop
 * exactly those and send the rest again instead of being stuck on one bad report.
 */
export function parseReports(reports: readonly ProgressReport[]): Array<{ report: ProgressReport; lease: Lease }> {
  if (reports.length > LIMITS.reportsPerCall) {
    throw new BadUserInputError(`reports may hold at most ${LIMITS.reportsPerCall} reports per call`, 'reports');
  }
  const parsed: Array<{ report: ProgressReport; lease: Lease }> = [];
  const invalid: number[] = [];
  let invalidCount = 0;
  let first: Invalid | undefined;
  // Per lease in this call: the last sequence seen, or null when its reports are unsequenced.
  const sequences = new Map<string, number | null>();
  reports.forEach((report, index) => {
    try {
      const lease = checkReport(report, `reports[${index}]`);
      checkSequence(report, lease, sequences, `reports[${index}]`);
      parsed.push({ report, lease });
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      first ??= error;
      invalidCount += 1;
      if (invalid.length < LISTED_INVALID) invalid.push(index);
    }
  });
  if (first !== undefined) {
    const more = invalidCount > 1 ? ` (and ${invalidCount - 1} more invalid reports, see invalidReports)` : '';
    throw new AppError(ErrorCode.BAD_USER_INPUT, `${first.message}${more}`, { field: first.field, invalidReports: invalid });
  }
  return parsed;
}
