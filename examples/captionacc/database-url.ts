/**
 * Seed 004 step 2 pastes the URL Supabase shows, `postgresql://postgres:[PASSWORD]@[HOST]:5432/postgres`. Prefect's
 * server opens it with SQLAlchemy's asyncpg dialect, which needs `postgresql+asyncpg://` (plain `postgresql://`
 * loads psycopg2 and the async engine refuses it) and takes `ssl=`, not libpq's `sslmode=`. Messages never quote
 * the URL: it holds the password.
 */
export const databaseUrlKey = "captionacc:supabaseDatabaseUrl";

const schemes = ["postgres", "postgresql", "postgresql+asyncpg"];
/** Supabase's transaction pooler (Supavisor, port 6543) drops prepared statements between transactions; Prefect uses them. */
const transactionPoolerPort = "6543";

interface Parts {
  scheme: string;
  /** `user:password@host:port/database`, untouched so the password keeps its own encoding. */
  location: string;
  query: URLSearchParams;
}

function parts(url: string): Parts {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^?#]+)(?:\?([^#]*))?$/i.exec(url.trim());
  if (!match) throw new Error(`${databaseUrlKey} must be a URL such as postgresql://postgres:<password>@db.<project-ref>.supabase.co:5432/postgres`);
  return { scheme: match[1].toLowerCase(), location: match[2], query: new URLSearchParams(match[3] ?? "") };
}

/** The host's port, from the part after the credentials (a password may hold `:`). */
function portOf(location: string): string | undefined {
  const hostPart = location.slice(location.lastIndexOf("@") + 1).split("/")[0];
  return /:(\d+)$/.exec(hostPart)?.[1];
}

/** The database the URL names: `postgres` is the Supabase project's own (and usually the app's). */
export function databaseName(url: string): string {
  const { location } = parts(url);
  const afterHost = location.slice(location.lastIndexOf("@") + 1);
  const slash = afterHost.indexOf("/");
  return slash === -1 ? "" : decodeURIComponent(afterHost.slice(slash + 1));
}

/** The URL for PREFECT_API_DATABASE_CONNECTION_URL; throws, naming the key, for a URL Prefect cannot use. */
export function prefectDatabaseUrl(url: string): string {
  const { scheme, location, query } = parts(url);
  if (!schemes.includes(scheme)) throw new Error(`${databaseUrlKey} must be a PostgreSQL URL (postgresql://…), got a ${scheme}:// URL`);
  if (portOf(location) === transactionPoolerPort) {
    throw new Error(
      `${databaseUrlKey} points at Supabase's transaction pooler (port ${transactionPoolerPort}), which breaks Prefect's prepared statements; ` +
        "use the direct connection (port 5432) or the session pooler",
    );
  }
  const sslmode = query.get("sslmode");
  if (sslmode !== null) {
    query.delete("sslmode");
    if (!query.has("ssl")) query.set("ssl", sslmode);
  }
  const search = query.toString();
  return `postgresql+asyncpg://${location}${search ? `?${search}` : ""}`;
}
