import type * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";

/**
 * A dynamic provider as tests call it: every method present, plus the check() helpers each provider test
 * needs. `N` is what `checked` accepts (the inputs type unless a test checks partial inputs).
 */
export interface ProviderUnderTest<I, O, N = I> {
  provider: Required<pulumi.dynamic.ResourceProvider<I, O>>;
  /** check() that must pass (`failures` exactly `[]`); returns the checked inputs. */
  checked(news: N, olds?: Partial<I>): Promise<I>;
  /** The failure reasons check() gives for `news` (which need not be well-typed). */
  reasons(news: unknown, olds?: Partial<I>): Promise<string[]>;
  /** create() without check(); throws if it returns no outputs. */
  created(news: I): Promise<O>;
}

export function providerUnderTest<I, O, N = I>(resourceProvider: pulumi.dynamic.ResourceProvider<I, O>): ProviderUnderTest<I, O, N> {
  const provider = resourceProvider as Required<pulumi.dynamic.ResourceProvider<I, O>>;
  return {
    provider,
    async checked(news, olds = {}) {
      const result = await provider.check(olds as I, news as unknown as I);
      expect(result.failures).toEqual([]);
      return result.inputs as I;
    },
    async reasons(news, olds = {}) {
      return ((await provider.check(olds as I, news as I)).failures ?? []).map((failure) => failure.reason);
    },
    async created(news) {
      const { outs } = await provider.create(news);
      if (!outs) throw new Error("create returned no outputs");
      return outs;
    },
  };
}
