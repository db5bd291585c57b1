/**
 * The config kit every program uses: a program declares its schema beside its index.ts with
 * `readProgramConfig(namespace, (read) => ({ ... }))` and gets its typed config, or one ConfigError listing
 * every problem as `<namespace>:<key> <rule>, got <value>; set it with \`pulumi config set … <example>\``.
 * The lower layer (Reader, configFailures, explain, readSection) is what config.ts's own schema builds on.
 */
export { ConfigError, configFailures, explain, renamed, under, type ExplainContext } from "./problems";
export { Reader, type NumberRange } from "./reader";
export { envNameRule, patterns } from "./rules";
export { readEnv, type ReservedNames } from "./env";
export { appNamePattern, flyAppNameRule, flyRegions, readChecks, readGuest } from "./fly";
export { namespaceKeys, readSecrets, readSection, readValue } from "./source";
export {
  parseProgramConfig,
  readProgramConfig,
  type BooleanOptions,
  type ListOfOptions,
  type ListOptions,
  type MapOfOptions,
  type NumberOptions,
  type OneOfOptions,
  type ProgramConfigOptions,
  type ProgramReader,
  type RawProgramConfig,
  type RecordOptions,
  type SecretOptions,
  type TextOptions,
} from "./program";
