/**
 * Program entry: `pulumi up -s staging` / `-s production` runs this file. It composes the platform's
 * components from the validated stack config; the components and config.ts land with the components
 * issue, so for now the stack declares its environment and no resources.
 */
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config("platform");

/** The environment this stack builds (`staging` or `production`), read by other stacks' StackReferences. */
export const environment = config.require("environment");
