import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { deviations as defaultDeviations, type Deviation, type OperationIds, type SchemaFragment } from "./deviations";

/**
 * Checks every request the Fly emulator receives and every response it sends against the vendored
 * OpenAPI document, with the documented deviations (deviations.ts) as the only exceptions.
 */

export const specPath = path.resolve(__dirname, "../../../specs/fly-machines/openapi.json");

interface SchemaHolder {
  schema?: SchemaFragment;
}
interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: SchemaFragment;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, SchemaHolder> };
  responses: Record<string, { content?: Record<string, SchemaHolder> }>;
}
type PathItem = Record<string, Operation | Parameter[] | undefined>;
interface OpenApiDocument {
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, Record<string, unknown>> };
  [key: string]: unknown;
}

export interface MatchedOperation {
  operationId: string;
  method: string;
  template: string;
  pathParams: Record<string, string>;
}

export interface CheckedRequest {
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  /** undefined when the request had no body. */
  body: unknown;
}

const errorBodySchema: SchemaFragment = {
  type: "object",
  required: ["error"],
  properties: { error: { type: "string" }, status: { type: "string" } },
};

const methods = ["get", "put", "post", "delete", "patch", "head", "options"];

interface Route {
  method: string;
  template: string;
  segments: string[];
  literalCount: number;
  operation: Operation;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function appliesTo(ids: OperationIds, operationId: string): boolean {
  return ids === "*" || ids.includes(operationId);
}

function setAt(target: Record<string, unknown>, keys: readonly string[], value: SchemaFragment, label: string): void {
  let node: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null) throw new Error(`deviation ${label}: no ${keys.join("/")} in the spec`);
    node = next as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (last === undefined || !(last in node)) throw new Error(`deviation ${label}: no ${keys.join("/")} in the spec`);
  node[last] = value;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? e.keyword}`).join("; ");
}

export class ContractChecker {
  private readonly ajv: Ajv;
  private readonly routes: Route[] = [];
  private readonly deviations: readonly Deviation[];
  private readonly deviationIndex = new Map<Deviation, number>();

  constructor(spec: OpenApiDocument = JSON.parse(fs.readFileSync(specPath, "utf8")), deviations: readonly Deviation[] = defaultDeviations) {
    this.deviations = deviations;
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);

    const request = structuredClone(spec);
    const response = structuredClone(spec);
    const extra: SchemaFragment[] = [];
    deviations.forEach((deviation) => {
      if (deviation.kind === "schemaPatch") {
        const doc = deviation.direction === "request" ? request : response;
        const component = doc.components.schemas[deviation.component];
        if (!component) throw new Error(`deviation "${deviation.what}": no component ${deviation.component}`);
        setAt(component, deviation.path, deviation.schema, deviation.what);
      } else if (deviation.kind === "requestProperty") {
        const properties = request.components.schemas[deviation.component]?.["properties"];
        if (!properties || typeof properties !== "object") throw new Error(`deviation "${deviation.what}": no properties in ${deviation.component}`);
        if (deviation.name in properties) throw new Error(`deviation "${deviation.what}": ${deviation.component} already declares ${deviation.name}`);
        (properties as Record<string, unknown>)[deviation.name] = deviation.schema;
      } else if (deviation.kind === "responseBody" || (deviation.kind === "status" && deviation.body)) {
        this.deviationIndex.set(deviation, extra.length);
        extra.push(deviation.body ?? errorBodySchema);
      }
    });
    response["x-emulator-deviations"] = extra;
    response["x-emulator-error"] = errorBodySchema;
    this.ajv.addSchema({ ...request, $id: "fly-request" });
    this.ajv.addSchema({ ...response, $id: "fly-response" });

    for (const [template, item] of Object.entries(spec.paths)) {
      for (const method of methods) {
        const operation = item[method];
        if (!operation || Array.isArray(operation)) continue;
        const segments = template.split("/").filter((s) => s !== "");
        this.routes.push({
          method: method.toUpperCase(),
          template,
          segments,
          literalCount: segments.filter((s) => !s.startsWith("{")).length,
          operation,
        });
      }
    }
    // Literal segments win over parameters: /certificates/acme before /certificates/{hostname}.
    this.routes.sort((a, b) => b.literalCount - a.literalCount);
  }

  match(method: string, pathname: string): MatchedOperation | undefined {
    const parts = pathname.split("/").filter((s) => s !== "");
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const pathParams: Record<string, string> = {};
      let ok = true;
      route.segments.forEach((segment, i) => {
        const part = parts[i] ?? "";
        if (segment.startsWith("{")) {
          try {
            pathParams[segment.slice(1, -1)] = decodeURIComponent(part);
          } catch {
            ok = false;
          }
        } else if (segment !== part) {
          ok = false;
        }
      });
      if (ok) return { operationId: route.operation.operationId, method, template: route.template, pathParams };
    }
    return undefined;
  }

  private route(op: MatchedOperation): Route {
    const route = this.routes.find((r) => r.template === op.template && r.method === op.method);
    if (!route) throw new Error(`no route ${op.method} ${op.template}`);
    return route;
  }

  private pointer(op: MatchedOperation, ...rest: string[]): string {
    return ["#", "paths", op.template, op.method.toLowerCase(), ...rest].map((s, i) => (i === 0 ? s : escapePointer(s))).join("/");
  }

  private validator(document: "fly-request" | "fly-response", pointer: string): ValidateFunction {
    const validate = this.ajv.getSchema(`${document}${pointer}`);
    if (!validate) throw new Error(`contract: cannot compile ${document}${pointer}`);
    return validate;
  }

  private checkValue(label: string, schema: SchemaFragment, raw: string, violations: string[]): void {
    let value: unknown = raw;
    const type = schema["type"];
    if (type === "integer" || type === "number") {
      value = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    } else if (type === "boolean") {
      value = raw === "true" ? true : raw === "false" ? false : raw;
    }
    const validate = this.ajv.compile(schema);
    if (!validate(value)) violations.push(`${label}: ${formatErrors(validate.errors)}`);
  }

  /**
   * Violations of the request, and `bodyError` when the JSON body does not match its schema (the
   * live API's JSON decoder rejects those with 400, so the emulator does too).
   */
  checkRequest(op: MatchedOperation, request: CheckedRequest): { violations: string[]; bodyError?: string } {
    const violations: string[] = [];
    let bodyError: string | undefined;
    const { operation } = this.route(op);
    const label = `${op.operationId} request`;
    const parameters = operation.parameters ?? [];
    const queryParameters = parameters.filter((p) => p.in === "query");

    for (const [name, raw] of Object.entries(request.query)) {
      const declared = queryParameters.find((p) =>
        p.name.includes("{") ? new RegExp(`^${p.name.replace(/\./g, "\\.").replace(/\{[^}]+\}/g, ".+")}$`).test(name) : p.name === name,
      );
      const deviation = this.deviations.find(
        (d) => d.kind === "queryParameter" && d.name === name && appliesTo(d.operationIds, op.operationId),
      );
      const schema = declared?.schema ?? (deviation?.kind === "queryParameter" ? deviation.schema : undefined);
      if (!declared && !deviation) {
        violations.push(`${label}: undeclared query parameter "${name}"`);
      } else if (schema) {
        this.checkValue(`${label}: query parameter "${name}"`, schema, raw, violations);
      }
    }
    for (const parameter of parameters) {
      if (!parameter.required) continue;
      const present =
        parameter.in === "query"
          ? request.query[parameter.name] !== undefined
          : parameter.in === "header"
            ? request.headers[parameter.name.toLowerCase()] !== undefined
            : parameter.in === "path"
              ? op.pathParams[parameter.name] !== undefined
              : true;
      if (!present) violations.push(`${label}: missing required ${parameter.in} parameter "${parameter.name}"`);
    }

    const jsonBody = operation.requestBody?.content["application/json"];
    if (request.body === undefined) {
      const optional = this.deviations.some((d) => d.kind === "optionalRequestBody" && appliesTo(d.operationIds, op.operationId));
      if (operation.requestBody?.required && !optional) violations.push(`${label}: missing required body`);
    } else if (!jsonBody?.schema) {
      violations.push(`${label}: the operation takes no JSON body`);
    } else {
      const validate = this.validator("fly-request", this.pointer(op, "requestBody", "content", "application/json", "schema"));
      if (!validate(request.body)) {
        bodyError = formatErrors(validate.errors);
        violations.push(`${label}: body ${bodyError}`);
      }
    }
    return { violations, bodyError };
  }

  checkResponse(op: MatchedOperation, status: number, body: unknown): string[] {
    const { operation } = this.route(op);
    const label = `${op.operationId} response ${status}`;
    const applicable = this.deviations.filter(
      (d) => d.kind !== "schemaPatch" && d.kind !== "optionalRequestBody" && d.kind !== "requestProperty" && appliesTo(d.operationIds, op.operationId),
    );
    const bodyDeviation = applicable.find((d) => d.kind === "responseBody" && d.status === status);
    const declared = operation.responses[String(status)];
    const statusDeviation = applicable.find((d) => d.kind === "status" && d.statuses.includes(status));

    let validate: ValidateFunction | undefined;
    if (bodyDeviation) {
      validate = this.validator("fly-response", `#/x-emulator-deviations/${this.deviationIndex.get(bodyDeviation)}`);
    } else if (status >= 400 && (declared || statusDeviation)) {
      const index = statusDeviation ? this.deviationIndex.get(statusDeviation) : undefined;
      validate = this.validator("fly-response", index === undefined ? "#/x-emulator-error" : `#/x-emulator-deviations/${index}`);
    } else if (declared) {
      if (declared.content?.["application/json"]?.schema) {
        validate = this.validator("fly-response", this.pointer(op, "responses", String(status), "content", "application/json", "schema"));
      } else if (status === 204 && body !== undefined) {
        return [`${label}: 204 must not have a body`];
      }
    } else if (statusDeviation) {
      const index = this.deviationIndex.get(statusDeviation);
      if (index !== undefined) validate = this.validator("fly-response", `#/x-emulator-deviations/${index}`);
    } else {
      return [`${label}: status not declared in the spec nor listed in deviations.ts`];
    }
    if (validate && !validate(body)) return [`${label}: body ${formatErrors(validate.errors)}`];
    return [];
  }
}
