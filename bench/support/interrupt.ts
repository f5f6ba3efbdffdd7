/**
 * SIGINT and SIGTERM during a bench: the first runs `cleanup` (stop the servers, close the
 * database) and exits 130; a second exits at once.
 */
export function onInterrupt(what: string, cleanup: () => Promise<void>): { readonly interrupted: boolean } {
  const state = { interrupted: false };
  const onSignal = (signal: string) => {
    if (state.interrupted) process.exit(130);
    state.interrupted = true;
    process.stderr.write(`\n${signal}: stopping ${what}\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return state;
}
