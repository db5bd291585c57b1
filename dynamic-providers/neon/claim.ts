/**
 * A claim marks the Neon branch a create makes (a project's default branch, or a branch) with a value unique to
 * the stack and resource, in a branch annotation. A create run again after "Neon acted, then the answer was lost"
 * or after a crash between the call and the state write finds an object of its name: carrying this claim, it is
 * the one this resource made and is taken over; without it, it is someone else's and the create refuses.
 */
import * as pulumi from "@pulumi/pulumi";
import { stackOrganization } from "../core/stack";
import type { AnnotationData, AnnotationValueData } from "@neondatabase/api-client";
import type { Failures } from "../core/check";
import { isUnknown } from "../core/check";

/** The annotation key (the spec sets no rule on keys; Neon's own examples are `github-commit-ref` style). */
export const claimAnnotationKey = "pulumi-claim";

export const claimPattern = /^[A-Za-z0-9._:-]{1,128}$/;
export const claimRule = "1 to 128 letters, digits, `.`, `_`, `:` or `-`";

/**
 * The claim a resource class fills in: sha256 (first 32 hex digits) of organization/project/stack/type/name,
 * so it differs between stacks and resources and stays the same from one run to the next.
 */
export function defaultClaim(type: string, resourceName: string): string {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  const identity = [stackOrganization(), pulumi.getProject(), pulumi.getStack(), type, resourceName].join("/");
  return createHash("sha256").update(identity).digest("hex").slice(0, 32);
}

/** The annotation to create the branch with; none when there is no claim (a provider called without the class). */
export function claimAnnotation(claim: string | undefined): AnnotationValueData | undefined {
  return claim === undefined ? undefined : { [claimAnnotationKey]: claim };
}

/** True when the branch's annotation carries exactly this claim. */
export function carriesClaim(annotation: AnnotationData | undefined, claim: string | undefined): boolean {
  return claim !== undefined && annotation?.value?.[claimAnnotationKey] === claim;
}

export function checkClaim(problems: Failures, claim: unknown): void {
  if (claim !== undefined && !isUnknown(claim)) problems.pattern("claim", claim, claimPattern, claimRule);
}
