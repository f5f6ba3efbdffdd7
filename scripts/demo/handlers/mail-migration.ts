/** mail-migration: count the messages folder by folder (total unknown), then copy them. */
import { JobAbortedError } from '../../../src/sdk';
import { between, fmt, randomInt, sleep } from '../util';
import { type Handler, strings, text } from './config';

const DEFAULT_FOLDERS = ['INBOX', 'Sent Items', 'Drafts', 'Archive/2023', 'Archive/2024', 'Projects', 'Newsletters'];

export const mailMigration: Handler = async (job, ctx) => {
  const mailbox = text(job.config, 'mailbox', 'someone@example.com');
  const source = text(job.config, 'sourceHost', 'imap.example.com');
  const destination = text(job.config, 'destinationHost', 'outlook.office365.com');
  const folders = strings(job.config, 'folders', DEFAULT_FOLDERS);
  if (ctx.secrets === null || typeof ctx.secrets['sourcePassword'] !== 'string') {
    throw new Error(`No source credentials for ${mailbox}: create the job with secrets { sourcePassword, destinationToken }`);
  }
  ctx.log(`Signed in to ${source} as ${mailbox} and to ${destination} (credentials from the job's secrets)`);

  // Counting: each folder must be opened to count its messages; until then the total is
  // unknown and the progress indeterminate. Having reported its own figures (total: null), the
  // job keeps them: the server never sums its folder tasks instead.
  let counted = 0;
  const counts: Array<{ folder: string; messages: number }> = [];
  ctx.progress({ phase: 'counting', unit: 'messages', done: 0, total: null, message: `Counting messages in ${folders.length} folders` });
  for (const [index, folder] of folders.entries()) {
    await sleep(between(1_000, 2_200), ctx.signal);
    const messages = folder === 'INBOX' ? randomInt(3_000, 12_000) : randomInt(150, 6_000);
    counted += messages;
    counts.push({ folder, messages });
    ctx.task(folder, { status: 'WAITING', done: 0, total: messages, unit: 'messages' });
    ctx.progress({ message: `Counting: ${index + 1} of ${folders.length} folders opened, ${fmt(counted)} messages so far` });
    ctx.log(`Counted ${fmt(messages)} messages in ${folder}`);
  }

  // Copying: the total is known now, and done grows.
  ctx.log(`${fmt(counted)} messages in ${folders.length} folders: copying`);
  const budgetMs = between(25_000, 55_000);
  let copied = 0;
  let inFolder = 0;
  ctx.progress({ phase: 'copying', total: counted, done: 0, message: `Copying ${fmt(counted)} messages` });
  try {
    for (const { folder, messages } of counts) {
      const folderMs = Math.max(1_500, (budgetMs * messages) / counted);
      const ticks = Math.max(2, Math.round(folderMs / 600));
      ctx.task(folder, { status: 'PROCESSING' });
      for (let tick = 1; tick <= ticks; tick += 1) {
        await sleep((folderMs / ticks) * between(0.7, 1.3), ctx.signal);
        inFolder = Math.round((messages * tick) / ticks);
        ctx.task(folder, { done: inFolder });
        ctx.progress({ done: copied + inFolder, message: `Copying ${folder}: ${fmt(inFolder)} of ${fmt(messages)}` });
      }
      copied += messages;
      inFolder = 0;
      ctx.task(folder, { status: 'COMPLETED', done: messages, message: `${fmt(messages)} messages copied` });
    }
  } catch (error) {
    if (error instanceof JobAbortedError && error.reason === 'cancelled') {
      ctx.log(
        `Cancel received: stopped after ${fmt(copied + inFolder)} of ${fmt(counted)} messages; what was copied stays in the destination mailbox`,
      );
      ctx.progress({ message: `Cancelled after ${fmt(copied + inFolder)} of ${fmt(counted)} messages` });
    }
    throw error;
  }
  return `Migrated ${fmt(counted)} messages in ${counts.length} folders for ${mailbox}`;
};
