import type * as pulumi from "@pulumi/pulumi";
import { sameValue } from "./check";

/**
 * The lifecycle of a resource that stands for a run rather than a remote object (a release command, a
 * command executed in a machine): create runs it; update runs it again only when one of `rerunFields`
 * changed and otherwise just records the new settings; read has nothing to refresh; delete cannot undo a run.
 */
export function runOnceLifecycle<I extends object, O extends I>(options: {
  run: (inputs: I) => Promise<O>;
  idOf: (inputs: I) => string;
  rerunFields: readonly (keyof I)[];
}): Required<Pick<pulumi.dynamic.ResourceProvider<I, O>, "create" | "read" | "update" | "delete">> {
  const { run, idOf, rerunFields } = options;
  return {
    async create(inputs) {
      return { id: idOf(inputs), outs: await run(inputs) };
    },
    async read(id, props) {
      return { id, props };
    },
    async update(_id, olds, news) {
      const rerun = rerunFields.some((field) => !sameValue(olds[field], news[field]));
      return { outs: rerun ? await run(news) : { ...olds, ...news } };
    },
    async delete() {
      return;
    },
  };
}
