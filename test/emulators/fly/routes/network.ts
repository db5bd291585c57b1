import { randomBytes, randomInt } from "node:crypto";
import type { components } from "../../../../dynamic-providers/fly/schema.gen";
import type { AppRecord, CertificateRecord, IpRecord, IpType } from "../state";
import { now } from "../state";
import type { Handler, RouteContext } from "./common";
import { HttpError, appOf, ok, optionalString, param, record } from "./common";

type Schemas = components["schemas"];

const supportedTypes: readonly IpType[] = ["v4", "v6", "shared_v4", "private_v6", "egress_v4", "egress_v6"];

function hex(): string {
  return randomBytes(2).toString("hex");
}

function addressFor(type: IpType): string {
  switch (type) {
    case "v4":
      return `137.66.${randomInt(256)}.${randomInt(1, 255)}`;
    case "shared_v4":
      return `66.241.124.${randomInt(1, 255)}`;
    case "v6":
      return `2a09:8280:1::${hex()}:${hex()}`;
    // Documentation ranges (RFC 5737, RFC 3849), so a test can never mistake an egress address for an ingress one.
    case "egress_v4":
      return `192.0.2.${randomInt(1, 255)}`;
    case "egress_v6":
      return `2001:db8:e::${hex()}:${hex()}`;
    default:
      return `fdaa:0:${hex()}:0:1::${randomInt(2, 65535).toString(16)}`;
  }
}

/** Networks an org has: the default one ("") plus every network its apps were created in. */
function networkExists(ctx: RouteContext, app: AppRecord, name: string): boolean {
  if (name === "" || name === "default") return true;
  return [...ctx.store.apps.values()].some((a) => a.orgSlug === app.orgSlug && a.network === name);
}

function ipView(ip: IpRecord): Schemas["IPAssignment"] {
  // network is null except on private_v6 (deviations.ts); the generated type does not allow null.
  const network = { network: ip.network } as { network?: Schemas["IPAssignmentNetwork"] };
  return { ip: ip.ip, region: ip.region, created_at: ip.createdAt, shared: ip.type === "shared_v4", service_name: ip.serviceName, egress: ip.type === "egress_v4" || ip.type === "egress_v6", ...network };
}

const listIps: Handler = (ctx) => ok({ ips: appOf(ctx).ips.map(ipView) });

const assignIp: Handler = (ctx) => {
  const app = appOf(ctx);
  const body = record(ctx.body);
  const type = optionalString(body, "type") as IpType | undefined;
  if (!type || !supportedTypes.includes(type)) {
    throw new HttpError(400, `unsupported ip type "${type ?? ""}": the emulator supports ${supportedTypes.join(", ")}`);
  }
  const networkName = optionalString(body, "network");
  if (networkName !== undefined && networkName !== "") {
    if (type !== "private_v6") throw new HttpError(400, "network can only be set on private_v6 addresses");
    if (!networkExists(ctx, app, networkName)) throw new HttpError(400, "network not found");
  }
  const ip: IpRecord = {
    ip: addressFor(type),
    type,
    region: optionalString(body, "region") ?? "",
    network: type === "private_v6" ? { name: networkName ?? "", org_slug: optionalString(body, "org_slug") ?? app.orgSlug } : null,
    serviceName: optionalString(body, "service_name") ?? "",
    createdAt: now(),
  };
  app.ips.push(ip);
  return ok(ipView(ip));
};

const releaseIp: Handler = (ctx) => {
  const app = appOf(ctx);
  const address = param(ctx, "ip");
  const index = app.ips.findIndex((ip) => ip.ip === address);
  if (index < 0) throw new HttpError(404, "ip address not found");
  app.ips.splice(index, 1);
  return { status: 204 };
};

/** A wildcard certificate's DNS records are named after the base domain. */
function baseHost(hostname: string): string {
  return hostname.startsWith("*.") ? hostname.slice(2) : hostname;
}

function dnsRequirements(app: AppRecord, hostname: string): Schemas["DNSRequirements"] {
  const host = baseHost(hostname);
  return {
    a: app.ips.filter((ip) => ip.type === "v4" || ip.type === "shared_v4").map((ip) => ip.ip),
    aaaa: app.ips.filter((ip) => ip.type === "v6").map((ip) => ip.ip),
    cname: `${app.name}.fly.dev`,
    acme_challenge: { name: `_acme-challenge.${host}`, target: `${host}.${app.dnsId}.flydns.net` },
    ownership: { name: `_fly-ownership.${host}`, app_value: `app-${app.id}`, org_value: `org-${app.orgSlug}` },
  };
}

function certificateDetail(app: AppRecord, certificate: CertificateRecord): Schemas["CertificateDetail"] {
  return {
    hostname: certificate.hostname,
    status: certificate.status,
    configured: certificate.status === "active",
    acme_requested: true,
    dns_provider: "",
    certificates: [{ source: "fly", status: certificate.status, created_at: certificate.createdAt, issued: [] }],
    dns_requirements: dnsRequirements(app, certificate.hostname),
    validation: {
      alpn_configured: false,
      dns_configured: certificate.status === "active",
      http_configured: false,
      ownership_txt_configured: certificate.status === "active",
    },
    validation_errors: [],
  };
}

function certificateOf(ctx: RouteContext, app: AppRecord): CertificateRecord {
  const certificate = app.certificates.get(param(ctx, "hostname"));
  if (!certificate) throw new HttpError(404, "certificate not found");
  return certificate;
}

const createCertificate: Handler = (ctx) => {
  const app = appOf(ctx);
  const hostname = (optionalString(record(ctx.body), "hostname") ?? "").toLowerCase();
  if (!/^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$/.test(hostname)) throw new HttpError(422, `invalid hostname "${hostname}"`);
  const owner = ctx.store.hostnames.get(hostname);
  if (owner !== undefined && owner !== app.name) throw new HttpError(409, `hostname ${hostname} is already in use by another app`);
  let certificate = app.certificates.get(hostname);
  if (!certificate) {
    const time = now();
    certificate = { hostname, status: "pending_validation", createdAt: time, updatedAt: time };
    app.certificates.set(hostname, certificate);
    ctx.store.hostnames.set(hostname, app.name);
  }
  return ok(certificateDetail(app, certificate), 201);
};

const showCertificate: Handler = (ctx) => {
  const app = appOf(ctx);
  return ok(certificateDetail(app, certificateOf(ctx, app)));
};

const listCertificates: Handler = (ctx) => {
  const app = appOf(ctx);
  const filter = ctx.query["filter"];
  const certificates = [...app.certificates.values()]
    .filter((c) => filter === undefined || c.hostname.includes(filter))
    .map(
      (c): Schemas["CertificateSummary"] => ({
        hostname: c.hostname,
        status: c.status,
        configured: c.status === "active",
        acme_requested: true,
        has_fly_certificate: c.status === "active",
        has_custom_certificate: false,
        created_at: c.createdAt,
        updated_at: c.updatedAt,
        dns_provider: "",
        acme_dns_configured: c.status === "active",
        acme_alpn_configured: false,
        acme_http_configured: false,
        ownership_txt_configured: c.status === "active",
      }),
    );
  return ok({ certificates, total_count: certificates.length });
};

const deleteCertificate: Handler = (ctx) => {
  const app = appOf(ctx);
  const certificate = certificateOf(ctx, app);
  app.certificates.delete(certificate.hostname);
  ctx.store.hostnames.delete(certificate.hostname);
  return { status: 204 };
};

const checkCertificate: Handler = (ctx) => {
  const app = appOf(ctx);
  const certificate = certificateOf(ctx, app);
  return ok({
    ...certificateDetail(app, certificate),
    dns_records: { a: [], aaaa: [], cname: [], acme_challenge_cname: "", ownership_txt: "", resolved_addresses: [], soa: "" },
  });
};

export const networkRoutes: Record<string, Handler> = {
  App_IPAssignments_list: listIps,
  App_IPAssignments_create: assignIp,
  App_IPAssignments_delete: releaseIp,
  App_Certificates_acme_create: createCertificate,
  App_Certificates_show: showCertificate,
  App_Certificates_list: listCertificates,
  App_Certificates_delete: deleteCertificate,
  App_Certificates_check: checkCertificate,
};
