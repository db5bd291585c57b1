import { describe, expect, it } from "vitest";
import { sendOnceMore, type ResendOptions } from "../../dynamic-providers/core/resend";

/** A fake remote side: a store of names, and a script of what each send does. */
function remote(script: readonly ("ok" | "drop" | "actThenDrop" | "refuse")[]) {
  const names: string[] = [];
  const log: string[] = [];
  let sends = 0;
  const send = async (): Promise<string> => {
    const step = script[sends++] ?? "ok";
    log.push(`send:${step}`);
    if (step === "drop") throw Object.assign(new Error("socket hang up"), { unanswered: true });
    if (step === "refuse" || names.includes("web")) throw Object.assign(new Error("409 name taken"), { conflict: true });
    names.push("web");
    if (step === "actThenDrop") throw Object.assign(new Error("socket hang up"), { unanswered: true });
    return "created web";
  };
  const options: ResendOptions<string> = {
    unanswered: (error) => (error as { unanswered?: boolean }).unanswered === true,
    conflict: (error) => (error as { conflict?: boolean }).conflict === true,
    find: async () => {
      log.push("find");
      return names.includes("web") ? "found web" : undefined;
    },
  };
  return { send, options, names, log };
}

describe("sendOnceMore", () => {
  it("sends once when the first send is answered", async () => {
    const r = remote(["ok"]);
    expect(await sendOnceMore(r.send, r.options)).toEqual({ created: "created web" });
    expect(r.log).toEqual(["send:ok"]);
  });

  it("after no answer, takes what the lookup finds without sending again", async () => {
    const r = remote(["actThenDrop"]);
    expect(await sendOnceMore(r.send, r.options)).toEqual({ found: "found web" });
    expect(r.log).toEqual(["send:actThenDrop", "find"]);
  });

  it("after no answer and nothing found, sends once more", async () => {
    const r = remote(["drop", "ok"]);
    expect(await sendOnceMore(r.send, r.options)).toEqual({ created: "created web" });
    expect(r.log).toEqual(["send:drop", "find", "send:ok"]);
    expect(r.names).toEqual(["web"]);
  });

  it("a resend refused because the first went through late takes the object found then: still one", async () => {
    const r = remote(["drop", "ok"]);
    // The first request lands after the lookup found nothing (a slow server), so the resend is refused.
    const late: ResendOptions<string> = {
      ...r.options,
      find: async () => {
        const found = await r.options.find();
        if (!found && !r.names.includes("web")) r.names.push("web");
        return found;
      },
    };
    expect(await sendOnceMore(r.send, late)).toEqual({ found: "found web" });
    expect(r.log).toEqual(["send:drop", "find", "send:ok", "find"]);
    expect(r.names).toEqual(["web"]);
  });

  it("a resend without an answer too is looked up once more", async () => {
    const r = remote(["drop", "actThenDrop"]);
    expect(await sendOnceMore(r.send, r.options)).toEqual({ found: "found web" });
    expect(r.log).toEqual(["send:drop", "find", "send:actThenDrop", "find"]);
  });

  it("throws the resend's error when the second lookup finds nothing either; never a third send", async () => {
    const r = remote(["drop", "drop", "ok"]);
    await expect(sendOnceMore(r.send, r.options)).rejects.toThrow("socket hang up");
    expect(r.log).toEqual(["send:drop", "find", "send:drop", "find"]);
  });

  it("throws a refusal of the first send as it came, without a lookup (the caller's conflict path handles it)", async () => {
    const r = remote(["refuse"]);
    await expect(sendOnceMore(r.send, r.options)).rejects.toThrow("409 name taken");
    expect(r.log).toEqual(["send:refuse"]);
  });

  it("with resend: false (names that are not unique), throws the first error when the lookup finds nothing", async () => {
    const r = remote(["drop", "ok"]);
    await expect(sendOnceMore(r.send, { ...r.options, resend: false })).rejects.toThrow("socket hang up");
    expect(r.log).toEqual(["send:drop", "find"]);
    expect(r.names).toEqual([]);
  });
});
