//! A private PostgreSQL server for tests: `initdb` into a temporary folder, `pg_ctl start` on a
//! free port, stopped (and the folder deleted) when the test process ends. Without PostgreSQL
//! the test is skipped, except under `CI=true`, where it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::data::in_ci;

/// A PostgreSQL server of this test process: `initdb` into a temporary folder, `pg_ctl start`
/// on a free port (TCP on 127.0.0.1, its unix socket in the same folder). It stops when dropped
/// and, since a shared server lives in a static that is never dropped, also when the test
/// process ends in any way: a watchdog shell waits for EOF on a pipe only this process holds,
/// then stops the server and deletes the folder.
pub struct PgServer {
    dir: PathBuf,
    port: u16,
    pg_ctl: PathBuf,
    as_postgres: bool,
    watchdog: Option<(Child, ChildStdin)>,
}

/// Fails under CI, else prints why the test is skipped.
fn unavailable(reason: &str) -> Option<PgServer> {
    if in_ci() {
        panic!(
            "PostgreSQL is required under CI: {reason} (install the packages in .ci/apt/catalog-pg.txt)"
        );
    }
    eprintln!("skipping: {reason} (apt-get install postgresql)");
    None
}

/// Directory of `initdb`/`pg_ctl`: `$MUSICREC_PG_BIN`, else the newest /usr/lib/postgresql/*/bin.
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MUSICREC_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free TCP port")
}

fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

impl PgServer {
    /// Starts a new server, or `None` (skip) when PostgreSQL is not installed outside CI.
    pub fn start() -> Option<PgServer> {
        let Some(bin) = bin_dir() else {
            return unavailable("no PostgreSQL under /usr/lib/postgresql (or $MUSICREC_PG_BIN)");
        };
        // initdb refuses to run as root: run the server as the `postgres` system user then.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let dir = tempfile::Builder::new()
            .prefix("musicrec-pg-")
            .tempdir()
            .expect("temp dir")
            .keep();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(status.success(), "chown of {} failed", dir.display());
        }
        let data = dir.join("data");
        let out = command(as_postgres, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "musicrec",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg_ctl = bin.join("pg_ctl");
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let out = command(as_postgres, &pg_ctl)
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.join("server.log"))
                .arg("-w")
                .arg("-o")
                .arg(format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
                     -c synchronous_commit=off -c full_page_writes=off -c max_connections=60",
                    dir.display()
                ))
                .arg("start")
                .output()
                .expect("run pg_ctl");
            if out.status.success() {
                let mut server = PgServer {
                    dir,
                    port,
                    pg_ctl,
                    as_postgres,
                    watchdog: None,
                };
                server.watchdog = Some(server.spawn_watchdog());
                return Some(server);
            }
            last_error = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
            );
        }
        panic!("pg_ctl start failed three times: {last_error}");
    }

    /// One server for the whole test process (tests use a database each).
    pub fn shared() -> Option<&'static PgServer> {
        static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();
        SERVER.get_or_init(PgServer::start).as_ref()
    }

    fn stop_command(&self) -> String {
        let stop = format!(
            "{} -D {} stop -m immediate",
            self.pg_ctl.display(),
            self.dir.join("data").display()
        );
        if self.as_postgres {
            format!("runuser -u postgres -- {stop}")
        } else {
            stop
        }
    }

    fn spawn_watchdog(&self) -> (Child, ChildStdin) {
        let script = format!(
            "cat >/dev/null; {} >/dev/null 2>&1; rm -rf {}",
            self.stop_command(),
            self.dir.display()
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start watchdog");
        let stdin = child.stdin.take().expect("piped stdin");
        (child, stdin)
    }

    /// `postgresql://` URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgresql://musicrec@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a fresh database with a unique name starting with `prefix`; returns its URL.
    pub fn new_database(&self, prefix: &str) -> String {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "{prefix}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connect to the test server");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        self.url(&name)
    }

    /// The server's log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Closing the pipe lets the watchdog stop the server and delete the folder; wait for it.
        if let Some((mut child, stdin)) = self.watchdog.take() {
            drop(stdin);
            let _ = child.wait();
        }
        let _ = std::io::stderr().flush();
    }
}
