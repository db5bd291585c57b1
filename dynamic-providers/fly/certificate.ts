import * as pulumi from "@pulumi/pulumi";
import { failures, isUnknown, sameValue } from "../core/check";
import { dynamicProvider } from "../core/provider";
import { appNamePattern } from "./app";
import { body, flyApi, ignoreNotFound, isStatus, isUnanswered, type Schemas } from "./client";
import { isApiError } from "../core/errors";
import { sendOnceMore } from "../core/resend";

/** A DNS name of at most 253 characters, optionally a wildcard `*.example.com`; compared in lower case. */
export const hostnamePattern = /^(?=.{1,253}$)(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export interface CertificateInputs {
  appName: string;
  hostname: string;
  /** Take over a certificate for this hostname that the app already has instead of requesting one. */
  adopt?: boolean;
}

/** The DNS records Fly asks for, flattened so a Cloudflare record can be built from each field. */
export interface CertificateOutputs extends CertificateInputs {
  /** `pending_validation` until DNS is in place, then `active` (as `fly certs show` reports it). */
  status: string;
  /** CNAME target for the hostname: `<app>.fly.dev`. */
  dnsCnameTarget: string;
  /** `_acme-challenge.<host>`: a CNAME here lets Fly validate (and renew) through DNS. */
  acmeChallengeName: string;
  acmeChallengeTarget: string;
  /** `_fly-ownership.<host>` TXT record proving the app owns the hostname. */
  ownershipName: string;
  ownershipValue: string;
  /** The app's v4 / v6 addresses for A / AAAA records, when a CNAME cannot be used (apex domains). */
  aRecords: string[];
  aaaaRecords: string[];
  adopted: boolean;
}

/**
 * Path parameters encoded for Fly: encodeURIComponent leaves `*` alone, but a wildcard hostname's `*`
 * must be sent as %2A (BEHAVIOUR-NOTES "Certificates").
 */
function certificatePath(pathname: string, params: Record<string, unknown>): string {
  return pathname.replace(/\{([^{}]+)\}/g, (match: string, name: string) => {
    const value = params[name];
    return value === undefined || value === null ? match : encodeURIComponent(String(value)).replace(/\*/g, "%2A");
  });
}

function outputs(inputs: CertificateInputs, detail: Schemas["CertificateDetail"], adopted: boolean): CertificateOutputs {
  const dns = detail.dns_requirements ?? {};
  return {
    ...inputs,
    status: detail.status ?? "unknown",
    dnsCnameTarget: dns.cname ?? `${inputs.appName}.fly.dev`,
    acmeChallengeName: dns.acme_challenge?.name ?? "",
    acmeChallengeTarget: dns.acme_challenge?.target ?? "",
    ownershipName: dns.ownership?.name ?? "",
    ownershipValue: dns.ownership?.app_value ?? "",
    aRecords: [...(dns.a ?? [])],
    aaaaRecords: [...(dns.aaaa ?? [])],
    adopted,
  };
}

async function show(appName: string, hostname: string): Promise<Schemas["CertificateDetail"] | undefined> {
  const api = flyApi();
  return ignoreNotFound(() =>
    body(
      api.GET("/v1/apps/{app_name}/certificates/{hostname}", {
        params: { path: { app_name: appName, hostname } },
        pathSerializer: certificatePath,
      }),
    ),
  );
}

export const certificateProvider = dynamicProvider<CertificateInputs, CertificateOutputs>({
  async check(_olds, news) {
    const hostname = typeof news.hostname === "string" && !isUnknown(news.hostname) ? news.hostname.toLowerCase().replace(/\.$/, "") : news.hostname;
    const problems = failures("fly certificate", isUnknown(hostname) ? undefined : hostname);
    if (!isUnknown(news.appName)) problems.pattern("appName", news.appName, appNamePattern, "a Fly app name");
    if (!isUnknown(hostname)) problems.pattern("hostname", hostname, hostnamePattern, "a DNS name such as `app.example.com` or `*.example.com`");
    if (news.adopt !== undefined && typeof news.adopt !== "boolean" && !isUnknown(news.adopt)) problems.add("adopt", "must be true or false", news.adopt);
    return { inputs: { ...news, hostname }, failures: problems.list };
  },

  /**
   * Hostname and app are the certificate's identity. Hostnames are global, so moving one to another app
   * must free it first (deleteBeforeReplace); a new hostname can be requested before the old is removed.
   */
  async diff(_id, olds, news) {
    const hostnameChanged = !sameValue(olds.hostname, news.hostname);
    const replaces = [...(sameValue(olds.appName, news.appName) ? [] : ["appName"]), ...(hostnameChanged ? ["hostname"] : [])];
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 && !hostnameChanged };
  },

  /** Requests an ACME certificate; it stays pending until the DNS records in the outputs exist, so this does not wait. */
  async create(inputs) {
    if (inputs.adopt) {
      const existing = await show(inputs.appName, inputs.hostname);
      if (existing) return { id: inputs.hostname, outs: outputs(inputs, existing, true) };
    }
    const api = flyApi();
    try {
      // Hostnames are unique (per app, and across Fly): after no answer (a dropped connection, a 5xx) the
      // certificate is looked up by its hostname; found, this create made it (as a create run again after a crash
      // takes it); not found, the create did not happen and is sent once more. Had the first gone through after
      // all, the second is refused (409) or answered with the same certificate, and either way it is the one taken.
      const outcome = await sendOnceMore(
        () =>
          body(
            api.POST("/v1/apps/{app_name}/certificates/acme", {
              params: { path: { app_name: inputs.appName } },
              body: { hostname: inputs.hostname },
            }),
          ),
        {
          unanswered: isUnanswered,
          conflict: (error) => isStatus(error, 409),
          find: () => show(inputs.appName, inputs.hostname),
        },
      );
      return { id: inputs.hostname, outs: outputs(inputs, "created" in outcome ? outcome.created : outcome.found, false) };
    } catch (error) {
      const detail = isApiError(error) ? error.detail : String(error);
      if (isStatus(error, 409)) {
        throw new Error(
          `fly certificate '${inputs.hostname}': the hostname is already used by another Fly app (${detail}). ` +
            `Remove it there with \`fly certs remove ${inputs.hostname} -a <other app>\`, or manage it on that app.`,
        );
      }
      if (isStatus(error, 422)) throw new Error(`fly certificate '${inputs.hostname}' for app '${inputs.appName}': Fly rejected the hostname: ${detail}`);
      throw error;
    }
  },

  /** Refreshes status and DNS requirements (a/aaaa follow the app's IP addresses). */
  async read(id, props) {
    const known: Partial<CertificateOutputs> = props ?? {};
    if (!known.appName) throw new Error(`fly certificate '${id}': the state lacks appName, so the certificate cannot be looked up`);
    const detail = await show(known.appName, id);
    if (!detail) return { id: "" };
    const live: CertificateInputs = { appName: known.appName, hostname: detail.hostname ?? id };
    if (known.adopt !== undefined) live.adopt = known.adopt;
    return { id, props: outputs(live, detail, known.adopted ?? false) };
  },

  async delete(id, props) {
    const api = flyApi();
    await ignoreNotFound(() =>
      api.DELETE("/v1/apps/{app_name}/certificates/{hostname}", {
        params: { path: { app_name: props.appName, hostname: id } },
        pathSerializer: certificatePath,
      }),
    );
  },
});

export interface CertificateArgs {
  /** The Fly app serving the hostname. */
  appName: pulumi.Input<string>;
  /**
   * The custom domain, as in `fly certs create app.example.com -a acme-web`. A wildcard
   * (`*.example.com`) is allowed and validated through the `_acme-challenge` CNAME.
   */
  hostname: pulumi.Input<string>;
  /** Take over a certificate the app already has for this hostname. @default `false` */
  adopt?: pulumi.Input<boolean>;
}

/**
 * A Let's Encrypt certificate for a custom domain on a Fly app. Create it after the app's IpAddress
 * resources (`dependsOn`) so that `aRecords` / `aaaaRecords` are filled; `status` turns `active` on a later
 * refresh once the DNS records exist.
 */
export class Certificate extends pulumi.dynamic.Resource {
  declare readonly appName: pulumi.Output<string>;
  declare readonly hostname: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;
  declare readonly dnsCnameTarget: pulumi.Output<string>;
  declare readonly acmeChallengeName: pulumi.Output<string>;
  declare readonly acmeChallengeTarget: pulumi.Output<string>;
  declare readonly ownershipName: pulumi.Output<string>;
  declare readonly ownershipValue: pulumi.Output<string>;
  declare readonly aRecords: pulumi.Output<string[]>;
  declare readonly aaaaRecords: pulumi.Output<string[]>;
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: CertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      certificateProvider,
      name,
      {
        ...args,
        status: undefined,
        dnsCnameTarget: undefined,
        acmeChallengeName: undefined,
        acmeChallengeTarget: undefined,
        ownershipName: undefined,
        ownershipValue: undefined,
        aRecords: undefined,
        aaaaRecords: undefined,
        adopted: undefined,
      },
      opts,
      "fly",
      "Certificate",
    );
  }
}
