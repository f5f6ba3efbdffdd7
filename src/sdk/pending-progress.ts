import { REPORT_LIMITS as LIMITS } from './report-limits';
import type { ProgressUpdate, TaskUpdate } from './types';

/**
 * What a job recorded since its progress was last sent, kept within the server's limits
 * (report-limits.ts, the file the server checks against): texts are cut to their limits, a
 * number or a task name the server could never take is refused where it is recorded (a
 * RangeError in the handler, where the bug is), and what is too much for one report (log
 * lines, tasks) is spread over several.
 */

/** Reports recorded between two sends; a new phase starts a new part, so the old phase's figures are sent first. */
export interface Part {
  fields: ProgressUpdate;
  tasks: Map<string, TaskUpdate & { name: string }>;
  log: LogLine[];
  /** When the part's last phase or step change was recorded (ms): the time of its timeline event. */
  changedAt?: number;
}

/** A log line and when the handler wrote it (ms): the server keeps that time (`at`). */
export interface LogLine {
  readonly text: string;
  readonly at: number;
}

export type Report = Record<string, unknown> & { lease: string };

/** Log lines sent per job per call: the server holds at most `queuedEventsPerJob` events per job between flushes. */
const LINES_PER_CALL = Math.floor(LIMITS.queuedEventsPerJob / 2);
/** Log lines kept while they cannot be sent (the server is unreachable): past this, the oldest go. */
const MAX_KEPT_LINES = 10_000;

const emptyPart = (): Part => ({ fields: {}, tasks: new Map(), log: [] });
const isEmpty = (part: Part) => Object.keys(part.fields).length === 0 && part.tasks.size === 0 && part.log.length === 0;

function clampText(value: unknown, max: number): string {
  const text = String(value);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function checkCount(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > LIMITS.maxCount) {
    throw new RangeError(`${field} must be a number from 0 to 2^53, not ${String(value)}`);
  }
}

/** A progress update as the server will take it (texts cut, counts checked); undefined keys dropped. */
function cleanUpdate<T extends ProgressUpdate | TaskUpdate>(update: T, what: string): T {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(update)) {
    if (value === undefined) continue;
    if (key === 'done') checkCount(value, `${what}.done`);
    else if (key === 'total' && value !== null) checkCount(value, `${what}.total`);
    else if (key === 'unit' && value !== null) clean[key] = clampText(value, LIMITS.unitChars);
    else if (key === 'phase' && value !== null) clean[key] = clampText(value, LIMITS.phaseChars);
    else if (key === 'message' && value !== null) clean[key] = clampText(value, LIMITS.messageChars);
    clean[key] ??= value;
  }
  return clean as T;
}

function checkTaskName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > LIMITS.taskNameChars) {
    throw new RangeError(`a task name must be 1 to ${LIMITS.taskNameChars} characters: ${JSON.stringify(String(name).slice(0, 50))}…`);
  }
}

/** Merges `later` into `earlier` (later values win), or says it cannot: `later` starts a new phase. */
function mergeInto(earlier: Part, later: Part): boolean {
  if (later.fields.phase !== undefined && later.fields.phase !== earlier.fields.phase) return false;
  Object.assign(earlier.fields, later.fields);
  if (later.changedAt !== undefined) earlier.changedAt = later.changedAt;
  for (const [name, task] of later.tasks) earlier.tasks.set(name, { ...earlier.tasks.get(name), ...task });
  earlier.log.push(...later.log);
  return true;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let at = 0; at < items.length; at += size) result.push(items.slice(at, at + size));
  return result;
}

export class PendingProgress {
  /** Earlier phases' parts, oldest first, then `current`. */
  private queue: Part[] = [];
  private current: Part = emptyPart();
  private phase: string | undefined;
  private keptLines = 0;
  private droppedLines = 0;

  get hasPending(): boolean {
    return this.queue.length > 0 || !isEmpty(this.current);
  }

  progress(update: ProgressUpdate): void {
    const clean = cleanUpdate(update, 'progress');
    if (clean.phase !== undefined && clean.phase !== this.phase) {
      // The old phase's last figures go out as their own report, before the new phase's.
      this.seal();
      this.phase = clean.phase;
    }
    if (
      (clean.phase !== undefined && clean.phase !== this.current.fields.phase) ||
      (clean.step !== undefined && clean.step !== this.current.fields.step)
    ) {
      this.current.changedAt = Date.now();
    }
    Object.assign(this.current.fields, clean);
  }

  task(name: string, update: TaskUpdate): void {
    checkTaskName(name);
    const clean = cleanUpdate(update, `task ${JSON.stringify(name)}`);
    this.current.tasks.set(name, { ...this.current.tasks.get(name), ...clean, name });
  }

  log(line: string): void {
    this.current.log.push({ text: clampText(line, LIMITS.logLineChars), at: Date.now() });
    this.keptLines += 1;
    if (this.keptLines > MAX_KEPT_LINES) this.dropOldestLine();
  }

  /**
   * Takes what is recorded, as reports in the order they must be applied. At most
   * LINES_PER_CALL log lines: the rest waits for the next send.
   */
  take(lease: string): Report[] {
    this.seal();
    const reports: Report[] = [];
    let lines = 0;
    while (this.queue.length > 0) {
      let part = this.queue[0] as Part;
      if (reports.length > 0 && lines + part.log.length > LINES_PER_CALL) break;
      this.queue.shift();
      if (part.log.length > LINES_PER_CALL) {
        // Too many lines for one send: the rest goes next time, still before anything later.
        this.queue.unshift({ fields: {}, tasks: new Map(), log: part.log.slice(LINES_PER_CALL) });
        part = { ...part, log: part.log.slice(0, LINES_PER_CALL) };
      }
      this.keptLines -= part.log.length;
      if (this.droppedLines > 0 && reports.length === 0) {
        part.log.unshift({
          text: `(${this.droppedLines} earlier log lines were dropped: they could not be sent in time)`,
          at: part.log[0]?.at ?? Date.now(),
        });
        this.droppedLines = 0;
      }
      lines += part.log.length;
      reports.push(...reportsOf(lease, part));
    }
    return reports;
  }

  private seal(): void {
    if (isEmpty(this.current)) return;
    const last = this.queue[this.queue.length - 1];
    if (last === undefined || !mergeInto(last, this.current)) this.queue.push(this.current);
    this.current = emptyPart();
  }

  private dropOldestLine(): void {
    const part = [...this.queue, this.current].find((candidate) => candidate.log.length > 0);
    if (part === undefined) return;
    part.log.shift();
    this.keptLines -= 1;
    this.droppedLines += 1;
  }
}

/**
 * One part as reports: the fields (with the time of their phase or step change) and the first
 * tasks, then the other tasks, then the log lines, each report holding lines written in the same
 * millisecond (its `at`), at most `logLinesPerReport`.
 */
function reportsOf(lease: string, part: Part): Report[] {
  const tasks = chunks([...part.tasks.values()], LIMITS.tasksPerReport);
  const reports: Report[] = [];
  const hasFields = Object.keys(part.fields).length > 0;
  if (hasFields || tasks.length > 0) {
    reports.push({
      lease,
      ...part.fields,
      ...(hasFields && part.changedAt !== undefined ? { at: new Date(part.changedAt).toISOString() } : {}),
      ...(tasks[0] === undefined ? {} : { tasks: tasks[0] }),
    });
  }
  for (const chunk of tasks.slice(1)) reports.push({ lease, tasks: chunk });
  let group: LogLine[] = [];
  const sendGroup = () => {
    if (group.length === 0) return;
    reports.push({ lease, at: new Date((group[0] as LogLine).at).toISOString(), log: group.map((line) => line.text) });
    group = [];
  };
  for (const line of part.log) {
    if (group.length > 0 && ((group[0] as LogLine).at !== line.at || group.length >= LIMITS.logLinesPerReport)) sendGroup();
    group.push(line);
  }
  sendGroup();
  return reports;
}
