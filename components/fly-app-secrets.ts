import * as pulumi from "@pulumi/pulumi";
import { Secrets } from "../dynamic-providers/fly/secrets";

export interface FlyAppSecretsArgs {
  /** A Fly app deployed elsewhere (its own repository, `fly deploy`), e.g. an orchestrator app of its own repository. */
  appName: pulumi.Input<string>;
  /**
   * The secrets to set, by name. Only these are ever set or unset; the app's other secrets are left alone.
   * @example `{ PREFECT_API_URL: prefect.apiUrl, PREFECT_API_AUTH_STRING: prefect.authString }`
   */
  secrets: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Secrets on a Fly app the platform does not own: `fly secrets set NAME=… -a <app>` for the named secrets only.
 * It never creates, changes or deletes the app or its machines; `pulumi destroy` unsets just these names.
 * Fly's machines read secrets when they start, so the app picks them up on its own next deploy or restart
 * (the Machines API call does not redeploy, unlike `fly secrets set`).
 *
 * @example
 * new FlyAppSecrets("orchestrator-prefect", {
 *   appName: "acme-orchestrator",
 *   secrets: { PREFECT_API_URL: prefect.apiUrl, PREFECT_API_AUTH_STRING: prefect.authString },
 * });
 */
export class FlyAppSecrets extends pulumi.ComponentResource {
  readonly appName: pulumi.Output<string>;
  /** The names this component manages (not secret). */
  readonly names: pulumi.Output<string[]>;
  /** The app's secrets version after the last change (`min_secrets_version` for machines that must see them). */
  readonly version: pulumi.Output<number>;

  constructor(name: string, args: FlyAppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:FlyAppSecrets", name, {}, opts);
    // Secret as inputs too: additionalSecretOutputs covers the outputs only, and inputs are stored as well.
    const values = pulumi.secret(pulumi.output(args.secrets)) as pulumi.Output<Record<string, string>>;
    const secrets = new Secrets(`${name}-secrets`, { appName: args.appName, values }, { parent: this });
    this.appName = secrets.appName;
    this.names = secrets.names;
    this.version = secrets.version;
    this.registerOutputs({ appName: this.appName, names: this.names, version: this.version });
  }
}
