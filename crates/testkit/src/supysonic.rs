//! A real Subsonic server for companion-mode tests: Supysonic, configured in a temp folder over a
//! music folder, scanned, and served on a free loopback port until dropped.
//!
//! The Python interpreter is `$MUSICREC_SUBSONIC_PYTHON`, a venv with the pinned packages of
//! `.ci/python/subsonic.txt` (Supysonic, py-sonic, knuckles; `.ci/run` makes it). Without it
//! [`python`] says so and tests skip, except under `CI=true`, where they fail.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::data::in_ci;

/// The Supysonic user [`Supysonic::start`] makes.
pub const USER: &str = "alice";
/// Its password.
pub const PASSWORD: &str = "s3cret-Pa55";

/// The venv's python, if set up: `None` with a "skipping" note, or under `CI=true` a panic.
pub fn python() -> Option<PathBuf> {
    let python = std::env::var_os("MUSICREC_SUBSONIC_PYTHON").map(PathBuf::from);
    if let Some(p) = python.as_ref().filter(|p| p.is_file()) {
        return Some(p.clone());
    }
    assert!(
        !in_ci(),
        "MUSICREC_SUBSONIC_PYTHON ({python:?}) is not a python with .ci/python/subsonic.txt installed; .ci/run sets it up"
    );
    eprintln!(
        "skipping: set MUSICREC_SUBSONIC_PYTHON to a venv python with .ci/python/subsonic.txt installed (see .ci/run)"
    );
    None
}

/// A Supysonic server over a music folder, killed when dropped.
pub struct Supysonic {
    child: Child,
    /// Its loopback port.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Supysonic {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Supysonic {
    /// Configures Supysonic in a temp folder (SQLite database, the user [`USER`], `music` added
    /// and scanned with `supysonic-cli`) and serves it on a free port with a small WSGI runner
    /// (wsgiref, threaded: no server package needed). Blocks until it listens.
    pub fn start(python: &Path, music: &Path) -> Supysonic {
        let dir = tempfile::tempdir().unwrap();
        let bin = python.parent().unwrap();
        let config = format!(
            "[base]\ndatabase_uri = sqlite:///{db}\n[webapp]\ncache_dir = {cache}\nlog_level = WARNING\nmount_webui = no\n[daemon]\nsocket = {sock}\nrun_watcher = no\n",
            db = dir.path().join("supysonic.db").display(),
            cache = dir.path().join("cache").display(),
            sock = dir.path().join("daemon.sock").display(),
        );
        // Supysonic reads ./supysonic.conf among its config locations.
        std::fs::write(dir.path().join("supysonic.conf"), config).unwrap();
        let cli = |args: &[&str]| {
            let out = Command::new(bin.join("supysonic-cli"))
                .args(args)
                .current_dir(dir.path())
                .env("HOME", dir.path())
                .output()
                .expect("supysonic-cli runs");
            assert!(
                out.status.success(),
                "supysonic-cli {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        cli(&["user", "add", USER, "-p", PASSWORD]);
        cli(&["folder", "add", "music", music.to_str().unwrap()]);
        cli(&["folder", "scan", "--foreground", "music"]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let runner = "import sys\n\
            from socketserver import ThreadingMixIn\n\
            from wsgiref.simple_server import WSGIServer, WSGIRequestHandler, make_server\n\
            from supysonic.web import create_application\n\
            class Quiet(WSGIRequestHandler):\n    def log_request(self, *a): pass\n\
            class Threaded(ThreadingMixIn, WSGIServer):\n    daemon_threads = True\n\
            make_server('127.0.0.1', int(sys.argv[1]), create_application(), Threaded, Quiet).serve_forever()\n";
        let child = Command::new(python)
            .args(["-c", runner, &port.to_string()])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("supysonic starts");
        let server = Supysonic {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "supysonic did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One Subsonic call as [`USER`] (`u`, `p`, `v`, `c`, `f=json` added to `params`), by a
    /// plain HTTP/1.0 GET; the `subsonic-response` object, which must say `status: ok`.
    pub fn call(&self, call: &str, params: &[(&str, &str)]) -> Value {
        let mut query = vec![
            ("u", USER),
            ("p", PASSWORD),
            ("v", "1.16.1"),
            ("c", "musicrec-test"),
            ("f", "json"),
        ];
        query.extend_from_slice(params);
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("supysonic is up");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET /rest/{call}?{} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            query.join("&"),
            self.port
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response);
        let (head, body) = response
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{call}: not an HTTP response: {response}"));
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{call}: {head}\n{body}"
        );
        let doc: Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{call}: not JSON ({e}): {body}"));
        let envelope = doc["subsonic-response"].clone();
        assert_eq!(envelope["status"], "ok", "{call}: {envelope}");
        envelope
    }
}

/// A query component percent-encoded (RFC 3986: unreserved characters kept, spaces as `%20`).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
