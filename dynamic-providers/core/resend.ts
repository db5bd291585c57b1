/**
 * A create that got no answer (a dropped or timed-out connection, a 5xx) may or may not have been carried out:
 * from the client's side "the connection dropped before the server acted" and "it acted, then the answer was
 * lost" look the same. The object is looked up by what identifies it: found, this create made it; not found,
 * the create did not happen, and it is sent once more.
 *
 * Only for objects whose name is unique in their scope (a second create of the same name is refused with a
 * conflict): had the first request gone through after all, the second is refused and the object found then is
 * taken. Where names are not unique (Neon projects, Fly volumes and IP addresses) a resend could make a second
 * object, and the providers leave the first error standing instead.
 */

export interface ResendOptions<F> {
  /** True for an outcome after which the create may not have been carried out (no answer, a 5xx). */
  unanswered(error: unknown): boolean;
  /** True for a refusal because the name is taken (409, and what the API uses for it). */
  conflict(error: unknown): boolean;
  /** The object this create asked for, when it exists (looked up by its unique name). */
  find(): Promise<F | undefined>;
  /**
   * Send the create once more when `find` found nothing after no answer. `false` where the name does not keep a
   * second create from making a second object: the first error is thrown then. @default `true`
   */
  resend?: boolean;
}

/**
 * Runs `send`; when it got no answer, `find` decides: found → `{ found }`, not found → `send` once more. A resend
 * refused as a conflict, or left without an answer too, is looked up once more; found → `{ found }`. Any other
 * error (a refusal of the first send included) is thrown as it came, for the caller's own handling.
 */
export async function sendOnceMore<C, F>(send: () => Promise<C>, options: ResendOptions<F>): Promise<{ created: C } | { found: F }> {
  try {
    return { created: await send() };
  } catch (error) {
    if (!options.unanswered(error)) throw error;
    const found = await options.find();
    if (found !== undefined) return { found };
    if (options.resend === false) throw error;
  }
  try {
    return { created: await send() };
  } catch (again) {
    if (options.conflict(again) || options.unanswered(again)) {
      const found = await options.find();
      if (found !== undefined) return { found };
    }
    throw again;
  }
}
