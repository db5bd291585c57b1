/** Reading one namespace of the running stack's config through `pulumi.Config`. */
import * as pulumi from "@pulumi/pulumi";

/** The keys set under `namespace` (without the `<namespace>:` prefix), secret or not. */
export function namespaceKeys(namespace: string): string[] {
  const prefix = `${namespace}:`;
  return Object.keys(pulumi.runtime.allConfig())
    .filter((key) => key.startsWith(prefix))
    .map((key) => key.slice(prefix.length));
}

/** A section set to plain text instead of an object is returned as text, for the schema to report with the rest. */
export function readSection(config: pulumi.Config, key: string): unknown {
  try {
    return config.getObject<unknown>(key);
  } catch {
    return config.get(key);
  }
}

/**
 * A key's value as the stack file wrote it: an object or list for a section, otherwise the text the engine
 * hands over (`pulumi config set ns:port 8000` is the text `8000`; the schema's readers convert it).
 */
export function readValue(config: pulumi.Config, key: string): unknown {
  const value = readSection(config, key);
  return typeof value === "object" && value !== null ? value : config.get(key);
}

/** The secrets among `keys` that are set, as secret Outputs. */
export function readSecrets<K extends string>(config: pulumi.Config, keys: readonly K[]): Partial<Record<K, pulumi.Output<string>>> {
  const secrets: Partial<Record<K, pulumi.Output<string>>> = {};
  for (const key of keys) {
    const value = config.getSecret(key);
    if (value !== undefined) secrets[key] = value;
  }
  return secrets;
}
