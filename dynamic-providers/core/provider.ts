import type * as pulumi from "@pulumi/pulumi";

/**
 * Drops `undefined` (deeply) from a value returned to the engine. The dynamic-provider host marshals
 * results with protobuf's Struct.fromJavaScript, which throws "Unexpected struct type" on undefined.
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((item) => item !== undefined).map((item: unknown) => withoutUndefined(item)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, inner]) => inner !== undefined)
        .map(([key, inner]) => [key, withoutUndefined(inner)]),
    ) as T;
  }
  return value;
}

/**
 * Every provider object goes through this: results of check/create/read/update are made marshallable
 * for the host. One place, so no provider can forget it.
 */
export function dynamicProvider<I, O>(provider: pulumi.dynamic.ResourceProvider<I, O>): pulumi.dynamic.ResourceProvider<I, O> {
  const inner = provider;
  return {
    ...inner,
    check: inner.check && (async (olds, news) => {
      const result = await inner.check!(olds, news);
      return { ...result, inputs: result.inputs && withoutUndefined(result.inputs) };
    }),
    create: inner.create && (async (inputs) => {
      const result = await inner.create!(inputs);
      return { ...result, outs: result.outs && withoutUndefined(result.outs) };
    }),
    read: inner.read && (async (id, props) => {
      const result = await inner.read!(id, props);
      return { ...result, props: result.props && withoutUndefined(result.props), inputs: result.inputs && withoutUndefined(result.inputs) };
    }),
    update: inner.update && (async (id, olds, news) => {
      const result = await inner.update!(id, olds, news);
      return { ...result, outs: result.outs && withoutUndefined(result.outs) };
    }),
  };
}
