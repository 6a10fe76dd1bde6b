//! `musicrec mpd` against a real Music Player Daemon (issue 16): a one-shot `--mix`, the daemon
//! that keeps the queue going (and comes back after MPD restarts), and a clear error when MPD is
//! not there. Each test starts its own `mpd --no-daemon` on a free port with a null audio output,
//! over one library of GTZAN-mini clips scanned once (with the fast `cnn` model).
//!
//! MPD comes from the Debian package in .ci/apt/players.txt; without it the tests are skipped
//! (and fail under `CI=true`).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use musicrec_testkit::data::{copy_clips, gtzan_mini, in_ci};

mod common;
use common::{command, musicrec, ok, one_line_error, s, stderr, stdout};

/// The scanned library: `music/<genre>/<genre>.0000N.wav` and its catalog.
struct Library {
    _dir: tempfile::TempDir,
    music: PathBuf,
    db: PathBuf,
    /// The clips as MPD names them (relative to the music folder).
    uris: HashSet<String>,
}

fn library() -> Option<&'static Library> {
    static LIBRARY: OnceLock<Option<Library>> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let gtzan = gtzan_mini()?;
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("music")).unwrap();
            let music = dir.path().join("music").canonicalize().unwrap();
            let clips = copy_clips(&gtzan, &music, 0..2);
            let uris = clips
                .iter()
                .map(|p| {
                    let rel = p.strip_prefix(&music).unwrap();
                    rel.to_str().unwrap().to_owned()
                })
                .collect();
            let db = dir.path().join("catalog.db");
            ok(
                musicrec(&["scan", s(&music), "--db", s(&db), "--model", "cnn"]),
                "scan",
            );
            Some(Library {
                _dir: dir,
                music,
                db,
                uris,
            })
        })
        .as_ref()
}

/// Whether the `mpd` binary is here (skip, or fail under CI, when not).
fn have_mpd() -> bool {
    let found = Command::new("mpd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found || !in_ci(),
        "mpd not found: install it (.ci/apt/players.txt)"
    );
    if !found {
        eprintln!("skipping: mpd not found");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `mpd --no-daemon`, killed on drop.
struct Mpd {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Mpd {
    fn start(music: &Path) -> Mpd {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        std::fs::create_dir_all(dir.path().join("playlists")).unwrap();
        let conf = format!(
            "music_directory \"{music}\"\n\
             playlist_directory \"{d}/playlists\"\n\
             db_file \"{d}/database\"\n\
             log_file \"{d}/log\"\n\
             bind_to_address \"127.0.0.1\"\n\
             bind_to_address \"{d}/socket\"\n\
             port \"{port}\"\n\
             auto_update \"no\"\n\
             zeroconf_enabled \"no\"\n\
             audio_output {{\n  type \"null\"\n  name \"null\"\n}}\n",
            music = music.display(),
            d = dir.path().display(),
        );
        std::fs::write(dir.path().join("mpd.conf"), conf).unwrap();
        let mut mpd = Mpd {
            child: spawn_mpd(dir.path()),
            dir,
            port,
        };
        mpd.update();
        mpd
    }

    /// Updates MPD's database (when it holds no song) and waits for the update to end.
    fn update(&mut self) {
        let mut client = self.client();
        let songs = |client: &mut Client| -> usize {
            client.value("stats", "songs").unwrap().parse().unwrap()
        };
        if songs(&mut client) > 0 {
            return;
        }
        // The update runs in MPD's own thread and fills the database as it walks; `updating_db`
        // is missing from `status` both before the job starts and after it ends, so the end is
        // when `stats` shows a new `db_update` time with no job running.
        let updated_at = |client: &mut Client| client.value("stats", "db_update");
        let before = updated_at(&mut client);
        client.cmd("update").unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while client.value("status", "updating_db").is_some() || updated_at(&mut client) == before {
            assert!(Instant::now() < deadline, "MPD's update did not finish");
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(songs(&mut client) > 0, "MPD found no songs: {}", self.log());
    }

    /// Kills MPD and starts it again with the same configuration, port and database.
    fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    fn stop(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn start_again(&mut self) {
        self.child = spawn_mpd(self.dir.path());
        self.update();
    }

    /// A connection, waiting up to 20 s for MPD to listen.
    fn client(&mut self) -> Client {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                return Client::new(stream);
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("mpd exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "MPD did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

fn spawn_mpd(dir: &Path) -> Child {
    Command::new("mpd")
        .arg("--no-daemon")
        .arg(dir.join("mpd.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mpd")
}

impl Drop for Mpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// MPD's text protocol, enough for a test: a command, then `key: value` lines until OK or ACK.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn new(stream: TcpStream) -> Client {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut client = Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        let mut greeting = String::new();
        client.reader.read_line(&mut greeting).unwrap();
        assert!(greeting.starts_with("OK MPD"), "{greeting}");
        client
    }

    fn cmd(&mut self, command: &str) -> Result<Vec<(String, String)>, String> {
        writeln!(self.writer, "{command}").unwrap();
        let mut pairs = Vec::new();
        loop {
            let mut line = String::new();
            assert!(self.reader.read_line(&mut line).unwrap() > 0, "MPD hung up");
            let line = line.trim_end();
            if line == "OK" {
                return Ok(pairs);
            }
            if line.starts_with("ACK") {
                return Err(line.to_owned());
            }
            let (k, v) = line.split_once(": ").unwrap();
            pairs.push((k.to_owned(), v.to_owned()));
        }
    }

    fn value(&mut self, command: &str, key: &str) -> Option<String> {
        self.cmd(command)
            .unwrap()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The queue's files, in order.
    fn queue(&mut self) -> Vec<String> {
        self.cmd("playlistinfo")
            .unwrap()
            .into_iter()
            .filter(|(k, _)| k == "file")
            .map(|(_, v)| v)
            .collect()
    }

    /// Queues `uri` and plays it.
    fn play(&mut self, uri: &str) {
        self.cmd("clear").unwrap();
        self.cmd(&format!("add \"{uri}\"")).unwrap();
        self.cmd("play 0").unwrap();
        assert_eq!(self.value("status", "state").as_deref(), Some("play"));
    }

    /// Waits up to 60 s for the queue to hold at least `len` songs; the queue.
    fn wait_for_queue(&mut self, len: usize, what: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let queue = self.queue();
            if queue.len() >= len {
                return queue;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the queue stayed at {queue:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn connection_args(lib: &Library, mpd: &Mpd) -> Vec<String> {
    vec![
        "mpd".into(),
        "--db".into(),
        s(&lib.db).into(),
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        mpd.port.to_string(),
    ]
}

fn assert_catalog_songs_without_repeats(lib: &Library, queue: &[String]) {
    let distinct: HashSet<&String> = queue.iter().collect();
    assert_eq!(distinct.len(), queue.len(), "a song twice: {queue:?}");
    for uri in queue {
        assert!(lib.uris.contains(uri), "{uri} is not a catalog song");
    }
}

#[test]
fn mix_queues_k_catalog_songs_like_the_playing_one() {
    let Some(lib) = library() else { return };
    if !have_mpd() {
        return;
    }
    let mut mpd = Mpd::start(&lib.music);
    let mut client = mpd.client();
    let playing = "blues/blues.00000.wav";
    client.play(playing);

    let mut args = connection_args(lib, &mpd);
    args.extend(["--mix".into(), "3".into()]);
    let out = ok(musicrec(&args), "mpd --mix 3");
    let printed = stdout(&out);
    let queued: Vec<&str> = printed.lines().collect();
    assert_eq!(queued.len(), 3, "{}", stdout(&out));
    assert!(
        queued.iter().all(|l| l.starts_with("queued ")),
        "{queued:?}"
    );

    let queue = client.queue();
    assert_eq!(queue.len(), 4, "{queue:?}\n{}", stderr(&out));
    assert_eq!(queue[0], playing);
    assert_catalog_songs_without_repeats(lib, &queue);
    // Over TCP the music folder is learned from the catalog's path of the playing song.
    assert!(
        stderr(&out).contains(&format!("music directory is {}", lib.music.display())),
        "{}",
        stderr(&out)
    );
    // The lines name what MPD queued.
    for (line, uri) in queued.iter().zip(&queue[1..]) {
        assert!(line.ends_with(uri.as_str()), "{line} vs {uri}");
    }

    // A user's disliked song is not queued for them.
    let disliked = &queue[1];
    ok(
        musicrec(&[
            "feedback",
            "--db",
            s(&lib.db),
            "--user",
            "mpd-listener",
            "--track",
            s(&lib.music.join(disliked)),
            "--dislike",
        ]),
        "feedback",
    );
    client.play(playing);
    let mut for_user = args.clone();
    for_user.extend(["--user".into(), "mpd-listener".into()]);
    let out = ok(musicrec(&for_user), "mpd --mix 3 --user");
    let queue = client.queue();
    assert_eq!(queue.len(), 4, "{queue:?}\n{}", stderr(&out));
    assert_catalog_songs_without_repeats(lib, &queue);
    assert!(!queue.contains(disliked), "{disliked} queued: {queue:?}");

    // Over MPD's unix socket the music folder comes from MPD's `config`.
    let socket = mpd.dir.path().join("socket");
    let out = ok(
        musicrec(&[
            "mpd",
            "--db",
            s(&lib.db),
            "--host",
            s(&socket),
            "--mix",
            "1",
        ]),
        "mpd --mix 1 over the unix socket",
    );
    assert!(
        stderr(&out).contains(&format!(
            "music directory is {} (from MPD's config)",
            lib.music.display()
        )),
        "{}",
        stderr(&out)
    );
    let queue = client.queue();
    assert_eq!(queue.len(), 5, "{queue:?}");
    assert_catalog_songs_without_repeats(lib, &queue);

    // --mix with nothing queued says what to do.
    client.cmd("clear").unwrap();
    let out = musicrec(&args);
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out, &["queue is empty"]);
}

#[test]
fn the_daemon_keeps_the_queue_going_and_survives_an_mpd_restart() {
    let Some(lib) = library() else { return };
    if !have_mpd() {
        return;
    }
    let mut mpd = Mpd::start(&lib.music);
    // Started before MPD is up (at boot, say), the daemon waits for it instead of exiting.
    mpd.stop();
    let logs = tempfile::tempdir().unwrap();
    let (out_file, err_file) = (logs.path().join("out"), logs.path().join("err"));
    let mut args = connection_args(lib, &mpd);
    args.extend(["--queue".into(), "2".into()]);
    let mut daemon = command()
        .args(&args)
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .spawn()
        .expect("start musicrec mpd");
    struct Kill<'a>(&'a mut Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let daemon = Kill(&mut daemon);
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        daemon.0.try_wait().unwrap().is_none(),
        "the daemon did not wait for MPD: {}",
        read(&err_file)
    );
    assert!(
        read(&err_file).contains("is not reachable"),
        "{}",
        read(&err_file)
    );
    mpd.start_again();

    let mut client = mpd.client();
    client.play("jazz/jazz.00000.wav");
    let queue = client.wait_for_queue(3, "first fill");
    // Settled: two songs wait after the current one, and no more are added.
    std::thread::sleep(Duration::from_millis(1500));
    let queue_after = client.queue();
    assert_eq!(queue_after, queue, "the daemon went on adding");
    assert_eq!(queue.len(), 3, "{queue:?}");
    assert_eq!(queue[0], "jazz/jazz.00000.wav");
    assert_catalog_songs_without_repeats(lib, &queue);
    let lines = read(&out_file);
    assert_eq!(lines.lines().count(), 2, "{lines}");

    // MPD goes away and comes back (with an empty queue): the daemon reconnects and goes on.
    drop(client);
    mpd.restart();
    let mut client = mpd.client();
    client.play("rock/rock.00001.wav");
    let queue = client.wait_for_queue(3, "after MPD's restart");
    assert_catalog_songs_without_repeats(lib, &queue);
    let err = read(&err_file);
    assert!(err.contains("lost MPD at 127.0.0.1:"), "{err}");
    assert!(err.contains("reconnected to MPD"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        daemon.0.try_wait().unwrap().is_none(),
        "the daemon ended: {err}"
    );
    drop(daemon);
    // Two songs before the restart, two after (more only if a 30 s clip ended meanwhile).
    assert!(read(&out_file).lines().count() >= 4, "{}", read(&out_file));
}

#[test]
fn mix_without_mpd_is_one_clear_error() {
    let Some(lib) = library() else { return };
    let port = free_port().to_string();
    let out = musicrec(&[
        "mpd",
        "--db",
        s(&lib.db),
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--mix",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    one_line_error(&out, &[&format!("cannot reach MPD at 127.0.0.1:{port}")]);
}
