import { BadUserInputError } from '../../graphql/errors';
import { STEP_ORDER } from '../../jobs/job-status';
import type { ProgressReport } from '../worker.types';

export const MAX_REPORTS_PER_CALL = 1000;
const MAX_COUNT = 2 ** 53 - 1;
const TASK_STATUSES = new Set(['WAITING', 'PROCESSING', 'COMPLETED', 'FAILED']);

function count(value: number | null | undefined, field: string): void {
  if (value == null) return;
  if (!Number.isFinite(value) || value < 0 || value > MAX_COUNT) {
    throw new BadUserInputError(`${field} must be a number from 0 to 2^53`, field);
  }
}

function text(value: string | null | undefined, max: number, field: string): void {
  if (value != null && value.length > max) throw new BadUserInputError(`${field} must be at most ${max} characters`, field);
}

/** Checks a batch of reports at the boundary; the message names the report and the field. */
export function validateReports(reports: readonly ProgressReport[]): void {
  if (reports.length > MAX_REPORTS_PER_CALL) {
    throw new BadUserInputError(`reports may hold at most ${MAX_REPORTS_PER_CALL} reports per call`, 'reports');
  }
  reports.forEach((report, index) => {
    const at = `reports[${index}]`;
    count(report.done, `${at}.done`);
    count(report.total, `${at}.total`);
    text(report.unit, 50, `${at}.unit`);
    text(report.phase, 100, `${at}.phase`);
    text(report.message, 1000, `${at}.message`);
    if (report.step != null && !STEP_ORDER.includes(report.step)) throw new BadUserInputError(`${at}.step is not a step`, `${at}.step`);
    if (report.log != null) {
      if (report.log.length > 50) throw new BadUserInputError(`${at}.log may hold at most 50 lines`, `${at}.log`);
      report.log.forEach((line, lineIndex) => text(line, 2000, `${at}.log[${lineIndex}]`));
    }
    if (report.tasks != null) {
      if (report.tasks.length > 500) throw new BadUserInputError(`${at}.tasks may hold at most 500 tasks`, `${at}.tasks`);
      report.tasks.forEach((task, taskIndex) => {
        const where = `${at}.tasks[${taskIndex}]`;
        if (task.name.length === 0 || task.name.length > 300) throw new BadUserInputError(`${where}.name must be 1 to 300 characters`, `${where}.name`);
        if (task.status != null && !TASK_STATUSES.has(task.status)) throw new BadUserInputError(`${where}.status is not a task status`, `${where}.status`);
        count(task.done, `${where}.done`);
        count(task.total, `${where}.total`);
        text(task.unit, 50, `${where}.unit`);
        text(task.message, 1000, `${where}.message`);
      });
    }
  });
}
