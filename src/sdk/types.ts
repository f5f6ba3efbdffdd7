/** What a worker sends about its job: the shapes the SDK's classes share. */
export type JobStep = 'PRE' | 'RUN' | 'POST';
export type TaskStatus = 'WAITING' | 'PROCESSING' | 'COMPLETED' | 'FAILED';
export type TrapDecision = 'RETRY' | 'SKIP';

export interface ProgressUpdate {
  done?: number;
  /** null while counting: the progress is indeterminate. */
  total?: number | null;
  unit?: string;
  phase?: string;
  message?: string;
  step?: JobStep;
}

export interface TaskUpdate {
  status?: TaskStatus;
  done?: number;
  total?: number | null;
  unit?: string;
  message?: string;
}
