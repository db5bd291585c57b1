import * as pulumi from "@pulumi/pulumi";

/**
 * The Pulumi organization of the running stack, for names and claims that must differ between stacks: the
 * self-managed backend's `organization` when the runtime has none (the mock runtime, and a CLI that passes none,
 * on which getOrganization() throws).
 */
export function stackOrganization(): string {
  try {
    return pulumi.getOrganization();
  } catch {
    return "organization";
  }
}
