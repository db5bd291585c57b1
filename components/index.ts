/**
 * The library: every component and its Args types. Another Pulumi project installs this repository from git
 * and imports from `platform/components`; programs in this repository import from `./components`.
 *
 * @example
 * import { FlyApp, NeonProject } from "platform/components";
 */
export * from "./cloudflare-worker";
export * from "./dashboard-app";
export * from "./docs-site";
export * from "./fly-app";
export * from "./fly-app-secrets";
export { flyTomlToArgs, readFlyToml, withFlyToml, type FlyAppFromTomlArgs, type FlyProcessGroupOverrides, type FlyTomlArgs } from "./fly-toml";
export * from "./github-guardrails";
export * from "./neon-project";
export * from "./prefect-server";
export * from "./r2-bucket";
