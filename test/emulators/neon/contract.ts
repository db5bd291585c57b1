import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** The vendored spec the installed @neondatabase/api-client is generated from. */
export const NEON_SPEC_PATH = join(__dirname, "..", "..", "..", "specs", "neon", "public-v2-for-users.gen.yaml");

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  schema: JsonObject;
}

export interface SpecOperation {
  operationId: string;
  method: string;
  template: string;
  parameters: Parameter[];
  requestBody?: { required: boolean; schema?: JsonObject };
  /** status code or "default" → schema (undefined when the response has no body) */
  responses: Map<string, JsonObject | undefined>;
  pattern: RegExp;
  pathParamNames: string[];
  literalSegments: number;
}

export interface RouteMatch {
  operation: SpecOperation;
  pathParams: Record<string, string>;
}

const SPEC_ID = "neon";

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Inline snippets are compiled outside the document, so their local refs must name the document. */
function anchorRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(anchorRefs);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = key === "$ref" && typeof inner === "string" && inner.startsWith("#") ? `${SPEC_ID}${inner}` : anchorRefs(inner);
  }
  return out;
}

export class NeonContract {
  readonly operations: SpecOperation[] = [];
  private readonly doc: JsonObject;
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(specPath = NEON_SPEC_PATH) {
    this.doc = parse(readFileSync(specPath, "utf8")) as JsonObject;
    // OpenAPI 3.0 is not JSON Schema: `nullable`, `x-*`, `example`, `deprecated` need a lenient Ajv.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, logger: false, discriminator: true });
    addFormats(this.ajv);
    this.ajv.addSchema(this.doc, SPEC_ID);
    const paths = this.doc.paths as JsonObject;
    for (const [template, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      for (const [method, raw] of Object.entries(item)) {
        if (!isObject(raw) || typeof raw.operationId !== "string") continue;
        const own = Array.isArray(raw.parameters) ? raw.parameters : [];
        const parameters = [...shared, ...own].map((p) => this.resolve(p) as unknown as Parameter);
        const segments = template.split("/").filter(Boolean);
        const pathParamNames: string[] = [];
        const pattern = new RegExp(
          "^/" +
            segments
              .map((segment) => {
                const m = /^\{(.+)\}$/.exec(segment);
                if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
                pathParamNames.push(m[1]);
                return "([^/]+)";
              })
              .join("/") +
            "/?$",
        );
        const responses = new Map<string, JsonObject | undefined>();
        for (const [status, response] of Object.entries(raw.responses as JsonObject)) {
          const resolved = this.resolve(response);
          const content = isObject(resolved) && isObject(resolved.content) ? resolved.content["application/json"] : undefined;
          responses.set(status, isObject(content) && isObject(content.schema) ? content.schema : undefined);
        }
        let requestBody: SpecOperation["requestBody"];
        if (raw.requestBody) {
          const body = this.resolve(raw.requestBody);
          const content = isObject(body) && isObject(body.content) ? body.content["application/json"] : undefined;
          requestBody = {
            required: isObject(body) && body.required === true,
            schema: isObject(content) && isObject(content.schema) ? content.schema : undefined,
          };
        }
        this.operations.push({
          operationId: raw.operationId,
          method: method.toUpperCase(),
          template,
          parameters,
          requestBody,
          responses,
          pattern,
          pathParamNames,
          literalSegments: segments.length - pathParamNames.length,
        });
      }
    }
    // `/branches/count` must win over `/branches/{branch_id}`.
    this.operations.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  private resolve(value: Json): Json {
    let current = value;
    for (let i = 0; i < 10 && isObject(current) && typeof current.$ref === "string"; i++) {
      let target: Json = this.doc;
      for (const part of current.$ref.replace(/^#\//, "").split("/")) {
        target = isObject(target) ? target[part.replace(/~1/g, "/").replace(/~0/g, "~")] : null;
      }
      current = target;
    }
    return current;
  }

  private validator(schema: JsonObject): ValidateFunction {
    const key = JSON.stringify(schema);
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(anchorRefs(schema) as JsonObject);
      this.compiled.set(key, fn);
    }
    return fn;
  }

  private check(schema: JsonObject, value: unknown, where: string): string[] {
    const fn = this.validator(schema);
    if (fn(value)) return [];
    return (fn.errors ?? []).slice(0, 5).map((e) => `${where}${e.instancePath} ${e.message ?? "invalid"} ${JSON.stringify(e.params)}`);
  }

  match(method: string, path: string): RouteMatch | undefined {
    for (const operation of this.operations) {
      if (operation.method !== method) continue;
      const m = operation.pattern.exec(path);
      if (!m) continue;
      const pathParams: Record<string, string> = {};
      operation.pathParamNames.forEach((name, i) => (pathParams[name] = decodeURIComponent(m[i + 1])));
      return { operation, pathParams };
    }
    return undefined;
  }

  /** The operation a path would have with any method; used to tell "wrong method" from "unknown path". */
  knownPath(path: string): boolean {
    return this.operations.some((o) => o.pattern.test(path));
  }

  validateRequest(
    operation: SpecOperation,
    pathParams: Record<string, string>,
    query: Record<string, string>,
    body: unknown,
  ): string[] {
    const problems: string[] = [];
    for (const param of operation.parameters) {
      if (param.in !== "path" && param.in !== "query") continue;
      const raw = param.in === "path" ? pathParams[param.name] : query[param.name];
      if (raw === undefined) {
        if (param.required) problems.push(`${param.in} parameter ${param.name} is required`);
        continue;
      }
      problems.push(...this.check(param.schema, coerce(raw, param.schema), `${param.in} parameter ${param.name}`));
    }
    if (operation.requestBody) {
      if (body === undefined) {
        if (operation.requestBody.required) problems.push("request body is required");
      } else if (operation.requestBody.schema) {
        problems.push(...this.check(operation.requestBody.schema, body, "request body"));
      }
    } else if (body !== undefined) {
      problems.push("request body is not allowed");
    }
    return problems;
  }

  validateResponse(operation: SpecOperation, status: number, body: unknown): string[] {
    const key = operation.responses.has(String(status)) ? String(status) : operation.responses.has("default") ? "default" : undefined;
    if (key === undefined) return [`status ${status} is not declared`];
    if (key === "default" && status < 400) return [`status ${status} is not declared (only errors fall back to default)`];
    const schema = operation.responses.get(key);
    if (!schema) return body === undefined ? [] : [`status ${status} declares no body but one was sent`];
    if (body === undefined) return [`status ${status} requires a JSON body`];
    return this.check(schema, body, `response ${status}`);
  }

  /** Error bodies of every status are checked against GeneralError, whatever the operation declares. */
  validateError(body: unknown): string[] {
    return this.check({ $ref: "#/components/schemas/GeneralError" }, body, "error body");
  }
}

function coerce(raw: string, schema: JsonObject): unknown {
  if (schema.type === "integer" || schema.type === "number") return raw.trim() === "" ? raw : Number.isNaN(Number(raw)) ? raw : Number(raw);
  if (schema.type === "boolean") return raw === "true" ? true : raw === "false" ? false : raw;
  if (schema.type === "array") return raw.split(",");
  return raw;
}
