/**
 * Asserts that none of the secrets occurs in a serialized provider, state or log text: verbatim, base64
 * (standard and url-safe, as used in Basic auth headers and tokens), hex, or JSON-escaped.
 */
export function assertNoSecrets(serialized: string, secrets: string[]): void {
  for (const [index, value] of secrets.entries()) {
    if (value === "") throw new Error(`assertNoSecrets: secret #${index} is empty, which would match anything`);
    const buffer = Buffer.from(value, "utf8");
    const forms: [string, string][] = [
      ["verbatim", value],
      ["JSON-escaped", JSON.stringify(value).slice(1, -1)],
      ["base64", buffer.toString("base64")],
      ["base64 without padding", buffer.toString("base64").replace(/=+$/, "")],
      ["base64url", buffer.toString("base64url")],
      ["hex", buffer.toString("hex")],
      ...embeddedBase64(buffer).map((needle, shift): [string, string] => [`base64 inside a longer value (offset ${shift})`, needle]),
    ];
    for (const [form, needle] of forms) {
      if (needle.length > 0 && serialized.includes(needle)) {
        throw new Error(`assertNoSecrets: secret #${index} (${describe(value)}) appears ${form} at offset ${serialized.indexOf(needle)}`);
      }
    }
  }
}

/**
 * The base64 characters that depend only on the secret, for each of the three alignments it can have inside a
 * longer encoded value (e.g. `Basic base64(user:token)`). Too-short cores are skipped to avoid false alarms.
 */
function embeddedBase64(buffer: Buffer): string[] {
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    let core = Buffer.concat([Buffer.alloc(shift), buffer]).toString("base64").replace(/=+$/, "");
    if ((shift + buffer.length) % 3 !== 0) core = core.slice(0, -1);
    core = core.slice(Math.ceil((shift * 8) / 6));
    if (core.length >= 8) cores.push(core);
  }
  return cores;
}

/** Names a secret without printing it: the test output must not leak it either. */
function describe(value: string): string {
  return value.length <= 4 ? `${value.length} chars` : `${value.slice(0, 2)}…${value.length} chars`;
}
