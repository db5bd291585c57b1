/**
 * Pulumi mocks for the components' tests that look at what was registered by logical name: every resource's
 * inputs are recorded and echoed back as its state, plus the outputs `outputsFor` adds; invokes are recorded
 * and answered by `call` (anything it does not answer fails). See fly-mocks.ts for the registration-level view.
 */
import * as pulumi from "@pulumi/pulumi";
import { valueOf } from "./fly-mocks";

/** What the mock monitor was asked to register. */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export interface RecordingMocksOptions {
  /** Outputs a provider would add to the echoed inputs. */
  outputsFor?(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown>;
  /** The answer to an invoke, or undefined for one the test does not expect. */
  call?(args: pulumi.runtime.MockCallArgs): Record<string, unknown> | undefined;
}

export interface RecordingMocks {
  /** By `${type}::${name}`. */
  registered: Map<string, Registered>;
  calls: pulumi.runtime.MockCallArgs[];
  /** Installs the mocks (call it in beforeAll, before importing the component). */
  install(): Promise<void>;
}

export function recordingMocks(options: RecordingMocksOptions = {}): RecordingMocks {
  const registered = new Map<string, Registered>();
  const calls: pulumi.runtime.MockCallArgs[] = [];
  const install = () =>
    pulumi.runtime.setMocks(
      {
        newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
          const inputs = args.inputs as Record<string, unknown>;
          registered.set(`${args.type}::${args.name}`, { type: args.type, name: args.name, inputs });
          return { id: `${args.name}-id`, state: { ...inputs, ...options.outputsFor?.(args.type, args.name, inputs) } };
        },
        call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
          calls.push(args);
          const answer = options.call?.(args);
          if (answer === undefined) throw new Error(`unexpected call ${args.token}`);
          return answer;
        },
      },
      "platform",
      "test",
    );
  return { registered, calls, install };
}

/** A resource made under a component, with the `protect` option it was given. */
export interface Child {
  resource: pulumi.Resource;
  type: string;
  name: string;
  protect: boolean | undefined;
  /** The `aliases` option as the resource received it (after its parents' transformations). */
  aliases: pulumi.ResourceOptions["aliases"];
  retainOnDelete: boolean | undefined;
}

/**
 * Constructs a component with a transformation that records every resource under it (the component itself
 * left out), and waits until each of them has registered.
 */
export async function constructRecording<C extends pulumi.Resource>(
  make: (opts: pulumi.ComponentResourceOptions) => C,
): Promise<{ component: C; children: Child[] }> {
  const children: Child[] = [];
  const record: pulumi.ResourceTransformation = ({ resource, type, name, props, opts }) => {
    children.push({ resource, type, name, protect: opts.protect, aliases: opts.aliases, retainOnDelete: opts.retainOnDelete });
    return { props, opts };
  };
  const component = make({ transformations: [record] });
  // Transformations see the component itself too.
  const own = children.filter((child) => child.resource !== component);
  await Promise.all(own.map((child) => valueOf(child.resource.urn)));
  return { component, children: own };
}

/**
 * Runs `make` and collects the errors thrown later inside Outputs' `apply` (a check on values known only at
 * deployment time). Pulumi reports those as unhandled rejections, which the language host turns into the failed
 * program; Vitest would count them as stray errors, so its handlers are set aside until no new one has come
 * for a few ticks.
 */
export async function applyErrors(make: () => void): Promise<Error[]> {
  const errors: Error[] = [];
  const collect = (reason: unknown): void => {
    errors.push(reason instanceof Error ? reason : new Error(String(reason)));
  };
  const saved = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", collect);
  try {
    make();
    let seen = -1;
    for (let round = 0, quiet = 0; round < 250 && quiet < 10; round++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      quiet = errors.length === seen ? quiet + 1 : 0;
      seen = errors.length;
    }
  } finally {
    process.off("unhandledRejection", collect);
    for (const listener of saved) process.on("unhandledRejection", listener);
  }
  return errors;
}
