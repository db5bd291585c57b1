import { sleep } from "./retry";

export interface PollOptions<T> {
  /** What is awaited, for the timeout error: "fly machine 'worker' to reach started". */
  description: string;
  fn: () => Promise<T>;
  predicate: (value: T) => boolean;
  timeoutMs: number;
  intervalMs?: number;
}

/** Calls `fn` until `predicate` holds for its value; one helper for Fly machine states and Neon operations. */
export async function poll<T>(options: PollOptions<T>): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 200;
  for (;;) {
    const value = await options.fn();
    if (options.predicate(value)) return value;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${options.description}`);
    }
    // The last sleep is cut short so that one more check lands at the deadline instead of giving up early.
    await sleep(Math.min(interval, remaining));
    interval = Math.min(interval * 2, 5_000);
  }
}
