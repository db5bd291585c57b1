import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { FlyAppSecrets as FlyAppSecretsClass } from "../../components/fly-app-secrets";
import { flyType, setFlyMocks, settled, valueOf, type Registration } from "./fly-mocks";

let registrations: Registration[];
let FlyAppSecrets: typeof FlyAppSecretsClass;

beforeAll(async () => {
  registrations = await setFlyMocks();
  ({ FlyAppSecrets } = await import("../../components/fly-app-secrets"));
});

describe("FlyAppSecrets on seed 004's orchestrator, an app deployed from its own repository", () => {
  let secrets: FlyAppSecretsClass;
  let own: Registration[];

  beforeAll(async () => {
    secrets = new FlyAppSecrets("orchestrator-prefect", {
      appName: "captionacc-orchestrator",
      // Plain on purpose, one value an Output as a PrefectServer hands it: the component makes them secret.
      secrets: { PREFECT_API_URL: pulumi.output("https://captionacc-prefect.fly.dev/api"), PREFECT_API_AUTH_STRING: "admin:generated" },
    });
    const urn = await valueOf(secrets.urn);
    await valueOf(secrets.version);
    await settled(registrations);
    own = registrations.filter((r) => r.parent === urn);
  });

  it("registers one fly:Secrets under the component and no App, Machine or anything else", () => {
    expect(own.map((r) => [r.type, r.name])).toEqual([[flyType("Secrets"), "orchestrator-prefect-secrets"]]);
    const flyChildren = registrations.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/fly:") && r.name.startsWith("orchestrator-prefect"));
    expect(flyChildren.map((r) => r.type)).toEqual([flyType("Secrets")]);
  });

  it("sets exactly the named secrets on the app, their values sent as secrets", () => {
    const [registration] = own;
    expect(registration.inputs).toMatchObject({ appName: "captionacc-orchestrator" });
    expect(registration.secretInputs).toContain("values");
    expect(registration.inputs.values).toEqual({
      PREFECT_API_URL: "https://captionacc-prefect.fly.dev/api",
      PREFECT_API_AUTH_STRING: "admin:generated",
    });
  });

  it("outputs the app name, the managed names (not secret) and the secrets version", async () => {
    expect(await valueOf(secrets.appName)).toBe("captionacc-orchestrator");
    expect(await valueOf(secrets.names)).toEqual(["PREFECT_API_AUTH_STRING", "PREFECT_API_URL"]);
    expect(await pulumi.isSecret(secrets.names)).toBe(false);
    expect(await valueOf(secrets.version)).toBe(7);
  });
});

describe("FlyAppSecrets with secrets known only at deployment", () => {
  it("takes the whole map as an Output and still sends it as a secret", async () => {
    const secrets = new FlyAppSecrets("later", { appName: pulumi.output("other-app"), secrets: pulumi.output({ TOKEN: "t" }) });
    const urn = await valueOf(secrets.urn);
    await valueOf(secrets.version);
    await settled(registrations);
    const [registration] = registrations.filter((r) => r.parent === urn);
    expect(registration.inputs).toEqual({ appName: "other-app", values: { TOKEN: "t" } });
    expect(registration.secretInputs).toEqual(["values"]);
  });
});
