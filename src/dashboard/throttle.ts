// Runs `fn` now if it is idle, else once more after the running call and `gapMs`:
// live pages refresh at most that often however fast events come.
export function throttle(fn: () => Promise<unknown>, gapMs: number, signal: AbortSignal): () => void {
  let running = false;
  let again = false;
  const run = async (): Promise<void> => {
    running = true;
    try {
      await fn();
    } catch {
      // the next call tries again
    }
    await new Promise((r) => setTimeout(r, gapMs));
    running = false;
    if (again && !signal.aborted) {
      again = false;
      void run();
    }
  };
  return () => {
    if (signal.aborted) return;
    if (running) again = true;
    else void run();
  };
}
