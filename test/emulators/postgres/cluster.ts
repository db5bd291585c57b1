import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { scramVerifier } from "../../../dynamic-providers/postgres/scram";

/** A real PostgreSQL server from the distribution's packages, listening on 127.0.0.1 only. */
export interface PostgresCluster {
  host: "127.0.0.1";
  port: number;
  superuser: string;
  superuserPassword: string;
  dataDir: string;
  /**
   * The server also accepts TLS, with a self-signed certificate for IP 127.0.0.1 (made with `openssl` when it is
   * installed; undefined otherwise). Pass its contents as `ssl: { ca }` to verify it.
   */
  caCertFile?: string;
  adminUri(db?: string): string;
  /** Everything the server has written to its log (stderr) so far. */
  serverLog(): string;
  stop(): Promise<void>;
}

export interface StartPostgresClusterOptions {
  /** Start from a copy of this running cluster's data (roles, databases, schema, rows). */
  from?: PostgresCluster;
  /** Name of the bootstrap superuser. @default `postgres` */
  superuser?: string;
  /**
   * Server settings (`-c name=value`) on top of the harness's own, e.g. `{ log_statement: "all" }` to have every
   * statement in `serverLog()`. @default `{}`
   */
  settings?: Record<string, string>;
}

interface Paths {
  bin: string;
  user?: { uid: number; gid: number };
}

interface Running {
  server: ChildProcess;
  /** Holds a pipe from this process; when the pipe closes (stop(), or this process dies) it shuts the server down. */
  watchdog: ChildProcess;
}

const running = new Map<number, Running>();
let cachedPaths: Paths | undefined;

/** Debian installs one directory per major version; CI may have a different one than a developer machine. */
function findBinDir(): string {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0], "bin");
  }
  const probe = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  const dir = probe.status === 0 ? probe.stdout.trim() : "";
  if (dir && existsSync(join(dir, "initdb"))) return dir;
  throw new Error(
    "postgres harness: no PostgreSQL server binaries found under /usr/lib/postgresql/*/bin or `pg_config --bindir`; install Debian's `postgresql` package",
  );
}

/** initdb refuses to run as root, so as root the servers run as the unprivileged `postgres` user. */
function findServerUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  let probe = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  if (probe.status !== 0) {
    const created = spawnSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], {
      encoding: "utf8",
    });
    if (created.status !== 0) throw new Error(`postgres harness: useradd postgres failed: ${created.stderr}`);
    probe = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  }
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  return { uid: Number(probe.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Data dirs go to /dev/shm when it is a roomy tmpfs: on a busy machine copying a cluster on disk took seconds, in
 * memory it takes milliseconds. Docker's default 64 MB /dev/shm is too small, so that falls back to the OS temp dir.
 */
function scratchRoot(): string {
  try {
    const fs = statfsSync("/dev/shm");
    if (fs.bavail * fs.bsize >= 1024 ** 3) return "/dev/shm";
  } catch {
    // no /dev/shm
  }
  return tmpdir();
}

function paths(): Paths {
  cachedPaths ??= { bin: findBinDir(), user: findServerUser() };
  return cachedPaths;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function chownTree(path: string, user: Paths["user"]): void {
  if (user) chownSync(path, user.uid, user.gid);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  const { user } = paths();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LC_ALL: "C", ...env },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let output = "";
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}: ${output.trim()}`)),
    );
  });
}

function exitCode(command: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "ignore" });
    child.once("error", () => resolve(null));
    child.once("exit", (code) => resolve(code));
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** True when a TCP connection to 127.0.0.1:port is refused (the server is gone). */
export async function isPortClosed(port: number): Promise<boolean> {
  return !(await canConnect(port));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SERVER_SETTINGS = [
  "fsync=off",
  "synchronous_commit=off",
  "full_page_writes=off",
  "shared_buffers=16MB",
  "max_connections=40",
  "max_wal_senders=4",
  "wal_level=replica",
  "checkpoint_timeout=1h",
  "min_wal_size=4MB",
  "max_wal_size=64MB",
  "log_min_messages=warning",
  "password_encryption=scram-sha-256",
];

async function initCluster(baseDir: string, dataDir: string, superuser: string, password: string): Promise<void> {
  const pwfile = join(baseDir, "pwfile");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chownTree(pwfile, paths().user);
  await run(join(paths().bin, "initdb"), [
    "-D",
    dataDir,
    "-U",
    superuser,
    `--pwfile=${pwfile}`,
    "--auth-host=scram-sha-256",
    "--auth-local=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    // 1 MB WAL segments instead of 16 MB keep every copy of a cluster small.
    "--wal-segsize=1",
  ]);
  rmSync(pwfile, { force: true });
}

/** Removes a dir when this process ends, however it ends (same stdin trick as the server watchdog). */
function removeWhenProcessEnds(dir: string): void {
  const janitor = spawn("sh", ["-c", 'read _; rm -rf "$1"', "janitor", dir], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  janitor.unref();
}

interface TlsFiles {
  cert: string;
  key: string;
}

let tlsFiles: Promise<TlsFiles | undefined> | undefined;

/** One self-signed certificate per process, shared by every cluster; none when openssl is missing. */
function tls(): Promise<TlsFiles | undefined> {
  tlsFiles ??= (async () => {
    const dir = mkdtempSync(join(scratchRoot(), "pg-harness-tls-"));
    removeWhenProcessEnds(dir);
    const files = { cert: join(dir, "server.crt"), key: join(dir, "server.key") };
    const made = await exitCode("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "7",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout", files.key, "-out", files.cert,
    ]);
    if (made !== 0) return undefined;
    // PostgreSQL insists on a private key owned by the server's user with no group or world access.
    const { user } = paths();
    chownTree(dir, user);
    chownTree(files.cert, user);
    chownTree(files.key, user);
    chmodSync(files.key, 0o600);
    return files;
  })();
  return tlsFiles;
}

/**
 * initdb costs about a second (more on a busy CI machine), so it runs once per process and superuser name; each fresh
 * cluster starts from a copy of that template and gets its own superuser password once it is up.
 */
const templates = new Map<string, Promise<{ dataDir: string; password: string }>>();

function template(superuser: string): Promise<{ dataDir: string; password: string }> {
  let pending = templates.get(superuser);
  if (!pending) {
    pending = (async () => {
      const baseDir = mkdtempSync(join(scratchRoot(), "pg-harness-template-"));
      chownTree(baseDir, paths().user);
      removeWhenProcessEnds(baseDir);
      const password = randomBytes(18).toString("base64url");
      const dataDir = join(baseDir, "data");
      await initCluster(baseDir, dataDir, superuser, password);
      return { dataDir, password };
    })();
    pending.catch(() => templates.delete(superuser));
    templates.set(superuser, pending);
  }
  return pending;
}

async function setSuperuserPassword(port: number, superuser: string, oldPassword: string, newPassword: string): Promise<void> {
  const client = new Client({ host: "127.0.0.1", port, user: superuser, password: oldPassword, database: "postgres" });
  await client.connect();
  try {
    // As a verifier, so that a server logging every statement never has the password in its log.
    await client.query(`ALTER ROLE ${client.escapeIdentifier(superuser)} PASSWORD ${client.escapeLiteral(scramVerifier(newPassword))}`);
  } finally {
    await client.end();
  }
}

/** pg_basebackup copies a running cluster consistently without stopping it (it waits for a fast checkpoint). */
async function copyCluster(from: PostgresCluster, dataDir: string): Promise<void> {
  await run(
    join(paths().bin, "pg_basebackup"),
    ["-h", "127.0.0.1", "-p", String(from.port), "-U", from.superuser, "-D", dataDir, "--checkpoint=fast", "--wal-method=stream", "--no-sync"],
    { PGPASSWORD: from.superuserPassword },
  );
  // A copy is its own primary, not a standby; Debian's packages put no config in the data dir, so nothing else to strip.
  rmSync(join(dataDir, "standby.signal"), { force: true });
}

async function launch(baseDir: string, dataDir: string, port: number, certificate: TlsFiles | undefined, settings: Record<string, string>): Promise<Running> {
  const { bin, user } = paths();
  const logFile = join(baseDir, "server.log");
  const args = ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${baseDir}`];
  for (const setting of SERVER_SETTINGS) args.push("-c", setting);
  // Later -c options win, so these override the harness's own.
  for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
  if (certificate) args.push("-c", "ssl=on", "-c", `ssl_cert_file=${certificate.cert}`, "-c", `ssl_key_file=${certificate.key}`);
  // Logs go straight to a file and the server is unref'd, so a running cluster never keeps this process alive.
  const logFd = openSync(logFile, "a");
  const server = spawn(join(bin, "postgres"), args, {
    stdio: ["ignore", logFd, logFd],
    env: { ...process.env, LC_ALL: "C" },
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  closeSync(logFd);
  server.unref();
  // A test process can die without running any hook (killed worker, crash). The watchdog sees its stdin close then,
  // asks for a fast shutdown (SIGINT), escalates to SIGQUIT after 10 s, and removes the temp dir.
  const watchdog = spawn(
    "sh",
    [
      "-c",
      'read _; kill -INT "$1" 2>/dev/null; i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; kill -QUIT "$1" 2>/dev/null; rm -rf "$2"',
      "watchdog",
      String(server.pid),
      baseDir,
    ],
    { stdio: ["pipe", "ignore", "ignore"], detached: true },
  );
  watchdog.unref();
  const started: Running = { server, watchdog };
  let exited = false;
  server.once("exit", () => (exited = true));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited) {
      const text = existsSync(logFile) ? spawnSync("tail", ["-n", "20", logFile], { encoding: "utf8" }).stdout : "";
      await shutdown(started);
      throw new Error(`postgres harness: server on port ${port} exited during startup:\n${text}`);
    }
    // pg_isready tells "accepting connections" from "starting up"; async so an emulator in this process keeps serving.
    if ((await canConnect(port)) && (await exitCode(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-t", "1"])) === 0) {
      return started;
    }
    await sleep(50);
  }
  await shutdown(started);
  throw new Error(`postgres harness: server on port ${port} did not accept connections within 30 s`);
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.ref();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Closing the watchdog's stdin runs its shutdown and temp dir removal; both processes are awaited. */
async function shutdown({ server, watchdog }: Running): Promise<void> {
  const done = Promise.all([exitOf(server), exitOf(watchdog)]);
  watchdog.stdin?.end();
  await done;
}

/**
 * Starts a fresh PostgreSQL cluster (initdb, scram-sha-256 on 127.0.0.1, durability off for speed) or a copy of
 * `opts.from`. The data lives in a temp dir that `stop()` removes.
 */
export async function startPostgresCluster(opts: StartPostgresClusterOptions = {}): Promise<PostgresCluster> {
  const { user } = paths();
  const baseDir = mkdtempSync(join(scratchRoot(), "pg-harness-"));
  chownTree(baseDir, user);
  const dataDir = join(baseDir, "data");
  const superuser = opts.from?.superuser ?? opts.superuser ?? "postgres";
  const superuserPassword = opts.from?.superuserPassword ?? randomBytes(18).toString("base64url");
  let templatePassword: string | undefined;
  try {
    if (opts.from) await copyCluster(opts.from, dataDir);
    else {
      const fresh = await template(superuser);
      templatePassword = fresh.password;
      await run("cp", ["-a", fresh.dataDir, dataDir]);
    }
  } catch (error) {
    rmSync(baseDir, { recursive: true, force: true });
    throw error;
  }
  const certificate = await tls();
  let started: Running | undefined;
  let port = 0;
  let lastError: unknown;
  // Another process can take the free port between the probe and the bind; a new port fixes that.
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    try {
      started = await launch(baseDir, dataDir, port, certificate, opts.settings ?? {});
    } catch (error) {
      lastError = error;
    }
  }
  if (!started) {
    rmSync(baseDir, { recursive: true, force: true });
    throw lastError;
  }
  const processes = started;
  running.set(port, processes);
  if (templatePassword !== undefined) {
    try {
      await setSuperuserPassword(port, superuser, templatePassword, superuserPassword);
    } catch (error) {
      await shutdown(processes);
      running.delete(port);
      rmSync(baseDir, { recursive: true, force: true });
      throw error;
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    host: "127.0.0.1",
    port,
    superuser,
    superuserPassword,
    dataDir,
    ...(certificate ? { caCertFile: certificate.cert } : {}),
    adminUri(db = "postgres") {
      return `postgresql://${encodeURIComponent(superuser)}:${encodeURIComponent(superuserPassword)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
    },
    serverLog() {
      return readFileSync(join(baseDir, "server.log"), "utf8");
    },
    stop() {
      stopping ??= shutdown(processes).then(() => {
        running.delete(port);
        rmSync(baseDir, { recursive: true, force: true });
      });
      return stopping;
    },
  };
}

/** Safety net for afterAll hooks: stops every cluster this process started and has not stopped yet. */
export async function stopAllClusters(): Promise<void> {
  await Promise.all(
    [...running.entries()].map(async ([port, processes]) => {
      await shutdown(processes);
      running.delete(port);
    }),
  );
}
