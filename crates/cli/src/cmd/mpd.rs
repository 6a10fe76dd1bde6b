//! `musicrec mpd`: keeps a Music Player Daemon's queue going with songs like the ones it plays (as
//! blissify does), or queues a one-shot mix like the current song (`--mix K`). The catalog is only
//! read. What to queue is decided by [`choose_tracks`], which knows nothing of MPD; the rest maps
//! MPD's song URIs to catalog tracks and back and speaks MPD's text protocol.
//!
//! The protocol is written here (about 250 lines) rather than taken from a crate: `mpd` (sync) has
//! no `config` command (the music directory), and `mpd_client` would bring an async runtime to a
//! loop that waits on one socket; neither was in the offline registry cache either. Commands are
//! lines, answers are `key: value` lines ending in `OK` or `ACK [code@n] {command} message`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use musicrec_catalog::{CatalogStore, EmbeddingSet, TrackSummary};
use musicrec_recommend::{
    EmbeddingIndex, Feedback, GenreBlend, Hit, MAX_SEEDS, Method, RecommendError, RecommendRequest,
    Rocchio, feedback_for_index,
};

/// Keep an MPD queue going with songs like the ones it plays, or queue a mix like the current song.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Without --mix, musicrec runs until stopped: it waits for MPD's player and queue events (no \
polling), and whenever fewer than --queue songs wait after the current one it appends songs like \
the last five of the queue, one line per song on stdout. Songs in the queue, songs played since \
it started, songs MPD refused and (with --user) the user's disliked songs are not queued; \
the dislikes also steer the choice away (Rocchio), while liked songs may come back. When MPD goes \
away it says so and reconnects (after 1 s, doubling up to 30 s); an MPD not up yet is waited for the same way. The catalog is read once at \
start: restart it after a scan.

--mix K queues K songs like the current one (or the last of the queue when nothing plays) and exits.

MPD names songs by paths relative to its music_directory; the catalog holds absolute paths. \
musicrec learns the folder from --music-dir, else from MPD's `config` (answered over a unix \
socket only: --host /run/mpd/socket), else from the first queued song whose path in the catalog \
ends with MPD's (this needs no setting, and works over TCP too). Catalog songs outside that \
folder are skipped with a note; so are queue songs that are not in the catalog.

Connection: --host and --port, else MPD_HOST and MPD_PORT, else localhost:6600. A host of the form \
PASSWORD@HOST sends the password; a host starting with / is a unix socket.

Examples:
  musicrec mpd                                  # keep 3 songs waiting after the current one
  musicrec mpd --queue 5 --method genre --max-per-artist 2 --user ann
  musicrec mpd --mix 20                         # 20 songs like the one playing, then exit
  musicrec mpd --host /run/mpd/socket           # the music folder comes from MPD's config
  MPD_HOST=secret@media musicrec mpd --music-dir /srv/music --db /srv/music.db")]
pub struct Args {
    /// Catalog database [default: the platform data folder's musicrec/catalog.db].
    #[arg(long, value_name = "FILE")]
    db: Option<String>,
    /// MPD's host name or address, PASSWORD@HOST, or a unix socket's path.
    #[arg(
        long,
        value_name = "HOST",
        env = "MPD_HOST",
        default_value = "localhost"
    )]
    host: String,
    /// MPD's TCP port.
    #[arg(long, value_name = "PORT", env = "MPD_PORT", default_value_t = 6600)]
    port: u16,
    /// Keep at least N songs waiting after the current one (3: a listener who skips a few does
    /// not run dry, and few songs are queued that a change of mind leaves behind).
    #[arg(long, value_name = "N", default_value_t = 3, conflicts_with = "mix")]
    queue: usize,
    /// Queue K songs like the current one (or the last of the queue) and exit.
    #[arg(long, value_name = "K")]
    mix: Option<usize>,
    /// similarity (method 1: embeddings only) or genre (method 2: plus genre probabilities).
    #[arg(long, default_value = "similarity", value_parser = ["similarity", "genre"])]
    method: String,
    /// At most N songs by one artist among the songs waiting (untagged files count by folder).
    #[arg(long, value_name = "N")]
    max_per_artist: Option<usize>,
    /// Model whose embeddings to use, as for `recommend` [default: as for `recommend`].
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<PathBuf>,
    /// Steer away from this user's dislikes (`musicrec feedback`), which are never queued; their
    /// liked songs may be.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// MPD's music_directory as this machine sees it (needed over TCP when no catalog path ends
    /// with an MPD path, e.g. when the catalog was scanned through a different mount).
    #[arg(long, value_name = "DIR")]
    music_dir: Option<PathBuf>,
}

/// Songs played or queued lately that are not queued again (beyond what the queue holds).
const RECENT: usize = 500;
/// Read timeout of every command but `idle` (which waits as long as nothing happens).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.mix == Some(0) {
        bail!("--mix must be at least 1");
    }
    if args.queue == 0 {
        bail!("--queue must be at least 1");
    }
    if args.max_per_artist == Some(0) {
        bail!("--max-per-artist must be at least 1");
    }
    let (
        store,
        musicrec_app::ModelIndex {
            model_id,
            set,
            index,
            ..
        },
    ) = crate::models::load(args.db.as_deref(), args.model.as_deref())?;
    let method = if args.method == "genre" {
        if set.model.genres.is_empty() {
            bail!("--method genre needs genre probabilities, and model {model_id} has no genres");
        }
        Method::SimilarityAndGenre(GenreBlend::default())
    } else {
        Method::Similarity
    };
    if let Some(name) = &args.user
        && store.user_by_name(name)?.is_none()
    {
        eprintln!(
            "note: {} has rated nothing yet: nothing to steer by",
            name.trim()
        );
    }
    let address = Address::parse(&args.host, args.port)?;
    let mut radio = Radio {
        store: store.as_ref(),
        index: &index,
        library: Library::new(&set, args.music_dir.as_deref()),
        method,
        max_per_artist: args.max_per_artist,
        user: args.user.clone(),
        recent: VecDeque::new(),
        refused: HashSet::new(),
        noted: HashSet::new(),
    };
    let first = match Connection::open(&address) {
        Ok(mut conn) => {
            radio.learn_music_dir(&mut conn);
            Some(conn)
        }
        // Kept running, it waits for an MPD that is not up yet (started after it at boot).
        Err(err) if args.mix.is_none() && err.is_connection() => None,
        Err(err) => {
            return Err(anyhow::Error::new(err).context(format!("cannot reach MPD at {address}")));
        }
    };
    match (args.mix, first) {
        (Some(k), Some(mut conn)) => radio.mix(&mut conn, k),
        (_, first) => radio.keep_going(&address, first, args.queue),
    }
}

/// What [`choose_tracks`] picks from: the index ranks every track by similarity to `seeds`.
#[derive(Debug, Clone)]
pub(crate) struct Choice<'a> {
    /// Catalog ids of up to [`MAX_SEEDS`] recent queue songs.
    pub seeds: &'a [i64],
    /// Never picked: songs in the queue, played lately, refused by MPD.
    pub avoid: &'a HashSet<i64>,
    /// The songs waiting in the queue (the current one on): they count against the artist cap.
    pub waiting: &'a [i64],
    pub count: usize,
    pub method: Method,
    pub max_per_artist: Option<usize>,
    pub feedback: Feedback,
}

/// Up to `choice.count` tracks to queue, best first: the index's ranking for the seeds (and
/// feedback), without the avoided tracks and those `queueable` rejects, at most
/// `max_per_artist` per artist counting the songs already waiting. Fewer when the catalog runs
/// out; none without seeds.
pub(crate) fn choose_tracks(
    index: &EmbeddingIndex,
    choice: &Choice<'_>,
    mut queueable: impl FnMut(i64) -> bool,
) -> Result<Vec<Hit>, RecommendError> {
    if choice.count == 0 || choice.seeds.is_empty() {
        return Ok(Vec::new());
    }
    let waiting: HashSet<i64> = choice.waiting.iter().copied().collect();
    // Ask for enough to survive the filters; ask again for more when they took too many.
    let mut fetch = choice.count * 4 + choice.avoid.len() + waiting.len();
    loop {
        fetch = fetch.min(index.len());
        let mut request = RecommendRequest::new(choice.seeds.to_vec(), fetch);
        request.method = choice.method;
        request.feedback = choice.feedback.clone();
        let ranked = index.recommend(&request)?.tracks;
        let exhausted = ranked.len() < fetch || fetch == index.len();
        let candidates: Vec<Hit> = ranked
            .into_iter()
            .filter(|hit| !choice.avoid.contains(&hit.id) && !waiting.contains(&hit.id))
            .filter(|hit| queueable(hit.id))
            .collect();
        let picks: Vec<Hit> = match choice.max_per_artist {
            Some(cap) => {
                // The waiting songs first, so that they fill their artists' shares.
                let mut all: Vec<Hit> = choice
                    .waiting
                    .iter()
                    .map(|&id| Hit {
                        id,
                        score: f32::INFINITY,
                    })
                    .collect();
                all.extend(candidates);
                index
                    .cap_per_artist(&all, all.len(), cap)
                    .into_iter()
                    .filter(|hit| !waiting.contains(&hit.id))
                    .take(choice.count)
                    .collect()
            }
            None => candidates.into_iter().take(choice.count).collect(),
        };
        if picks.len() == choice.count || exhausted {
            return Ok(picks);
        }
        fetch *= 2;
    }
}

/// The seeds for a queue: its last [`MAX_SEEDS`] distinct songs that are in the catalog, oldest first.
pub(crate) fn seeds_from_queue(queue: &[Option<i64>]) -> Vec<i64> {
    let mut seeds: Vec<i64> = Vec::new();
    for id in queue.iter().rev().flatten() {
        if seeds.len() == MAX_SEEDS {
            break;
        }
        if !seeds.contains(id) {
            seeds.push(*id);
        }
    }
    seeds.reverse();
    seeds
}

/// The catalog's tracks by path, and MPD's music directory (once known): MPD URI <-> track id.
struct Library<'a> {
    set: &'a EmbeddingSet,
    by_path: HashMap<&'a Path, usize>,
    music_dir: Option<PathBuf>,
    /// Lookups made (a queue is looked up at every event; a suffix search scans the catalog).
    known: HashMap<String, Known>,
}

/// A queue song as the catalog knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Track(i64),
    /// Not in the catalog (or not embedded with the model in use).
    Unknown,
    /// Several catalog tracks end with the song's path, and the music directory is unknown.
    Ambiguous,
}

impl<'a> Library<'a> {
    fn new(set: &'a EmbeddingSet, music_dir: Option<&Path>) -> Self {
        let by_path = set
            .tracks
            .iter()
            .enumerate()
            .map(|(row, t)| (t.path.as_path(), row))
            .collect();
        Self {
            set,
            by_path,
            music_dir: music_dir.map(canonical),
            known: HashMap::new(),
        }
    }

    /// Takes MPD's music directory when none was given (and says so).
    fn set_music_dir(&mut self, dir: &Path, how: &str) {
        if self.music_dir.is_none() {
            let dir = canonical(dir);
            eprintln!("note: MPD's music directory is {} ({how})", dir.display());
            self.music_dir = Some(dir);
            self.known.clear();
        }
    }

    fn track(&self, row: usize) -> &'a TrackSummary {
        &self.set.tracks[row]
    }

    /// The catalog track of an MPD song URI.
    fn lookup(&mut self, uri: &str) -> Known {
        if let Some(&known) = self.known.get(uri) {
            return known;
        }
        let known = self.find(uri);
        self.known.insert(uri.to_owned(), known);
        known
    }

    fn find(&mut self, uri: &str) -> Known {
        if uri.contains("://") {
            return Known::Unknown; // a stream
        }
        let relative = Path::new(uri);
        if relative.is_absolute() {
            // MPD gives local files outside its music directory as absolute paths.
            return self.by_path(relative).map_or(Known::Unknown, Known::Track);
        }
        if let Some(dir) = &self.music_dir {
            let path = dir.join(relative);
            if let Some(id) = self.by_path(&path) {
                return Known::Track(id);
            }
        }
        // A catalog path that ends with MPD's: needs no configuration, and teaches the directory.
        let mut matches = self
            .set
            .tracks
            .iter()
            .filter(|t| t.path.ends_with(relative));
        let (Some(first), second) = (matches.next(), matches.next()) else {
            return Known::Unknown;
        };
        if second.is_some() {
            return Known::Ambiguous;
        }
        if self.music_dir.is_none()
            && let Some(dir) = first.path.ancestors().nth(relative.components().count())
        {
            let dir = dir.to_path_buf();
            self.set_music_dir(&dir, &format!("the catalog's path of {uri}"));
        }
        Known::Track(first.id.0)
    }

    fn by_path(&self, path: &Path) -> Option<i64> {
        let row = match self.by_path.get(path) {
            Some(&row) => row,
            None => *self.by_path.get(canonical(path).as_path())?,
        };
        Some(self.track(row).id.0)
    }

    /// The URI MPD knows a catalog track by: its path under the music directory.
    fn uri(&self, id: i64) -> Option<String> {
        let row = self.set.row_of(musicrec_catalog::TrackId(id))?;
        let relative = self
            .track(row)
            .path
            .strip_prefix(self.music_dir.as_ref()?)
            .ok()?;
        let parts: Option<Vec<&str>> = relative
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect();
        Some(parts?.join("/"))
    }

    /// "Artist - Title" when the track has both tags (else its URI says more than its file name).
    fn name(&self, id: i64) -> Option<String> {
        let track = self.track(self.set.row_of(musicrec_catalog::TrackId(id))?);
        match (&track.artist, &track.title) {
            (Some(artist), Some(title)) => Some(format!("{artist} - {title}")),
            _ => None,
        }
    }
}

/// `path` with links resolved when it exists here (catalog paths are canonical).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The queue filler: the catalog side and what it remembers across reconnections.
struct Radio<'a> {
    store: &'a dyn CatalogStore,
    index: &'a EmbeddingIndex,
    library: Library<'a>,
    method: Method,
    max_per_artist: Option<usize>,
    user: Option<String>,
    /// Songs queued or played lately, oldest first.
    recent: VecDeque<i64>,
    /// Songs MPD would not add.
    refused: HashSet<i64>,
    /// Notes already given (each once).
    noted: HashSet<String>,
}

/// A queue as MPD reports it: catalog ids (`None`: unknown) and the current song's position.
struct Queue {
    uris: Vec<String>,
    ids: Vec<Option<i64>>,
    current: Option<usize>,
}

impl Radio<'_> {
    fn note(&mut self, text: String) {
        if self.noted.insert(text.clone()) {
            eprintln!("note: {text}");
        }
    }

    fn remember(&mut self, id: i64) {
        if self.recent.contains(&id) {
            return;
        }
        self.recent.push_back(id);
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
    }

    fn learn_music_dir(&mut self, conn: &mut Connection) {
        if self.library.music_dir.is_some() || !conn.local {
            return;
        }
        // Answered to local (unix socket) clients only.
        if let Ok(pairs) = conn.command("config")
            && let Some((_, dir)) = pairs.iter().find(|(k, _)| k == "music_directory")
        {
            self.library
                .set_music_dir(Path::new(dir), "from MPD's config");
        }
    }

    fn feedback(&mut self) -> anyhow::Result<Feedback> {
        let Some(name) = &self.user else {
            return Ok(Feedback::default());
        };
        let Some(user) = self.store.user_by_name(name)? else {
            return Ok(Feedback::default());
        };
        let (mut feedback, _) = feedback_for_index(
            &self.store.feedback(user.id)?,
            self.index,
            Rocchio::default(),
        );
        // A radio may play favourites again: only dislikes steer the choice and stay out.
        feedback.liked.clear();
        Ok(feedback)
    }

    fn queue(&mut self, conn: &mut Connection) -> Result<Queue, MpdError> {
        let status = conn.command("status")?;
        let current = value(&status, "song").and_then(|s| s.parse::<usize>().ok());
        let uris: Vec<String> = conn
            .command("playlistinfo")?
            .into_iter()
            .filter(|(k, _)| k == "file")
            .map(|(_, v)| v)
            .collect();
        let mut ids = Vec::with_capacity(uris.len());
        for uri in &uris {
            let known = self.library.lookup(uri);
            match known {
                Known::Track(id) => ids.push(Some(id)),
                Known::Unknown => {
                    self.note(format!(
                        "{uri} is not in the catalog (with this model): skipped"
                    ));
                    ids.push(None);
                }
                Known::Ambiguous => {
                    self.note(format!(
                        "several catalog tracks end with {uri}: skipped (give --music-dir)"
                    ));
                    ids.push(None);
                }
            }
        }
        let current = current.filter(|&p| p < uris.len());
        Ok(Queue { uris, ids, current })
    }

    /// Appends up to `count` songs like `seeds`; returns how many MPD took.
    fn append(
        &mut self,
        conn: &mut Connection,
        queue: &Queue,
        seeds: &[i64],
        count: usize,
    ) -> anyhow::Result<usize> {
        let feedback = self.feedback()?;
        let waiting: Vec<i64> = queue.ids[queue.current.unwrap_or(0)..]
            .iter()
            .flatten()
            .copied()
            .collect();
        let mut added = 0;
        // MPD may refuse songs (not in its database yet): choose again without them, a few times.
        for _ in 0..5 {
            if added == count {
                break;
            }
            let mut avoid: HashSet<i64> = queue.ids.iter().flatten().copied().collect();
            avoid.extend(&self.recent);
            avoid.extend(&self.refused);
            let choice = Choice {
                seeds,
                avoid: &avoid,
                waiting: &waiting,
                count: count - added,
                method: self.method,
                max_per_artist: self.max_per_artist,
                feedback: feedback.clone(),
            };
            let library = &self.library;
            let mut outside = Vec::new();
            let picks = choose_tracks(self.index, &choice, |id| {
                let ok = library.uri(id).is_some();
                if !ok {
                    outside.push(id);
                }
                ok
            })
            .context("recommendation failed")?;
            for id in outside {
                let path = self
                    .library
                    .set
                    .row_of(musicrec_catalog::TrackId(id))
                    .map(|row| self.library.track(row).path.display().to_string());
                let dir = self
                    .library
                    .music_dir
                    .as_ref()
                    .map_or("unknown".to_owned(), |d| d.display().to_string());
                self.note(format!(
                    "{} is outside MPD's music directory ({dir}): skipped",
                    path.unwrap_or_default()
                ));
            }
            if picks.is_empty() {
                break;
            }
            for hit in picks {
                let uri = self.library.uri(hit.id).expect("picked tracks have a URI");
                match conn.command(&format!("add {}", quote(&uri))) {
                    Ok(_) => {
                        match self.library.name(hit.id) {
                            Some(name) => outln!("queued {name}  ({uri})")?,
                            None => outln!("queued {uri}")?,
                        }
                        self.remember(hit.id);
                        added += 1;
                    }
                    Err(MpdError::Ack(message)) => {
                        eprintln!(
                            "note: MPD did not add {uri} ({message}: is its database up to date?); skipped"
                        );
                        self.refused.insert(hit.id);
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        }
        Ok(added)
    }

    /// `--mix K`: K songs like the current one (or the last of the queue).
    fn mix(&mut self, conn: &mut Connection, k: usize) -> anyhow::Result<ExitCode> {
        let queue = self.queue(conn)?;
        let Some(pos) = queue.current.or(queue.uris.len().checked_sub(1)) else {
            bail!("MPD plays nothing and its queue is empty: play a song to make a mix like it");
        };
        let Some(seed) = queue.ids[pos] else {
            bail!(
                "{} is not in the catalog: scan MPD's music folder with `musicrec scan DIR` first",
                queue.uris[pos]
            );
        };
        let added = self.append(conn, &queue, &[seed], k)?;
        if added == 0 {
            bail!("no song could be queued (see the notes above)");
        }
        if added < k {
            eprintln!("note: {added} of {k} songs queued: the catalog has no more that fit");
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Tops the queue up to `target` waiting songs, once.
    fn top_up(&mut self, conn: &mut Connection, target: usize) -> anyhow::Result<()> {
        let queue = self.queue(conn)?;
        let played = queue.current.map_or(0, |p| p + 1);
        for id in queue.ids[..played].iter().flatten() {
            self.remember(*id);
        }
        let waiting =
            queue.uris.len() - queue.current.unwrap_or(0) - usize::from(queue.current.is_some());
        if waiting >= target || queue.uris.is_empty() {
            return Ok(());
        }
        let seeds = seeds_from_queue(&queue.ids);
        if seeds.is_empty() {
            self.note(
                "none of the queue's songs is in the catalog: nothing to choose songs like"
                    .to_owned(),
            );
            return Ok(());
        }
        let added = self.append(conn, &queue, &seeds, target - waiting)?;
        if added < target - waiting {
            self.note("the catalog has no more songs that fit: the queue may run out".to_owned());
        }
        Ok(())
    }

    /// The daemon: top up, wait for MPD's next player or queue event, again; reconnect when MPD
    /// goes away. Returns only on errors that a reconnection does not cure.
    fn keep_going(
        &mut self,
        address: &Address,
        first: Option<Connection>,
        target: usize,
    ) -> anyhow::Result<ExitCode> {
        eprintln!("keeping {target} songs waiting in MPD's queue at {address} (Ctrl-C ends)");
        let mut conn = first;
        let mut backoff = Duration::from_secs(1);
        loop {
            let mut live = match conn.take() {
                Some(live) => live,
                None => match Connection::open(address) {
                    Ok(mut live) => {
                        eprintln!("reconnected to MPD at {address}");
                        self.learn_music_dir(&mut live);
                        backoff = Duration::from_secs(1);
                        live
                    }
                    Err(err) if err.is_connection() => {
                        eprintln!(
                            "note: MPD at {address} is not reachable ({err}); retrying in {} s",
                            backoff.as_secs()
                        );
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                    Err(err) => {
                        return Err(anyhow::Error::new(err).context(format!("MPD at {address}")));
                    }
                },
            };
            let result = (|| -> anyhow::Result<std::convert::Infallible> {
                loop {
                    self.top_up(&mut live, target)?;
                    live.idle()?;
                }
            })();
            let Err(err) = result;
            match err.downcast_ref::<MpdError>() {
                Some(mpd) if mpd.is_connection() => {
                    eprintln!(
                        "note: lost MPD at {address} ({mpd}); reconnecting in {} s",
                        backoff.as_secs()
                    );
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                _ => return Err(err),
            }
        }
    }
}

fn value<'v>(pairs: &'v [(String, String)], key: &str) -> Option<&'v str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// An argument in MPD's quoting: double quotes, with `"` and `\` escaped.
fn quote(arg: &str) -> String {
    let mut quoted = String::with_capacity(arg.len() + 2);
    quoted.push('"');
    for c in arg.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Where MPD listens, and the password to send.
#[derive(Debug, Clone)]
struct Address {
    host: String,
    port: u16,
    password: Option<String>,
}

impl Address {
    /// `HOST`, `PASSWORD@HOST` (as MPD_HOST), or a socket path.
    fn parse(text: &str, port: u16) -> anyhow::Result<Self> {
        let text = text.trim();
        let (password, host) = match text.split_once('@') {
            Some((password, host)) if !password.is_empty() => (Some(password.to_owned()), host),
            _ => (None, text),
        };
        if host.is_empty() {
            bail!("no MPD host in {text:?}");
        }
        if host.starts_with('@') {
            bail!(
                "MPD host {host}: abstract sockets are not supported; give the socket's path or a host"
            );
        }
        let host = match host.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map(|home| Path::new(&home).join(rest).to_string_lossy().into_owned())
                .unwrap_or_else(|| host.to_owned()),
            None => host.to_owned(),
        };
        Ok(Self {
            host,
            port,
            password,
        })
    }

    fn is_socket(&self) -> bool {
        self.host.starts_with('/')
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_socket() {
            f.write_str(&self.host)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// What went wrong talking to MPD.
#[derive(Debug)]
enum MpdError {
    /// The connection failed or was lost.
    Io(std::io::Error),
    /// The peer does not speak MPD's protocol.
    Protocol(String),
    /// MPD refused the command: `ACK [code@n] {command} message`, as its message.
    Ack(String),
}

impl MpdError {
    /// Whether a reconnection may cure it.
    fn is_connection(&self) -> bool {
        matches!(self, Self::Io(_) | Self::Protocol(_))
    }
}

impl std::fmt::Display for MpdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(err) => err.fmt(f),
            Self::Protocol(text) => write!(f, "not an MPD answer: {text}"),
            Self::Ack(text) => write!(f, "MPD refused: {text}"),
        }
    }
}

impl std::error::Error for MpdError {}

impl From<std::io::Error> for MpdError {
    fn from(err: std::io::Error) -> Self {
        Self::Io(err)
    }
}

enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Socket {
    fn try_clone(&self) -> std::io::Result<Self> {
        Ok(match self {
            Self::Tcp(s) => Self::Tcp(s.try_clone()?),
            Self::Unix(s) => Self::Unix(s.try_clone()?),
        })
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.set_read_timeout(timeout),
            Self::Unix(s) => s.set_read_timeout(timeout),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            Self::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.flush(),
            Self::Unix(s) => s.flush(),
        }
    }
}

/// One connection to MPD.
struct Connection {
    reader: BufReader<Socket>,
    writer: Socket,
    /// Over a unix socket: MPD answers `config`.
    local: bool,
}

impl Connection {
    fn open(address: &Address) -> Result<Self, MpdError> {
        let socket = if address.is_socket() {
            Socket::Unix(UnixStream::connect(&address.host)?)
        } else {
            let mut last = None;
            let mut stream = None;
            for addr in (address.host.as_str(), address.port).to_socket_addrs()? {
                match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                    Ok(s) => {
                        stream = Some(s);
                        break;
                    }
                    Err(err) => last = Some(err),
                }
            }
            match stream {
                Some(s) => Socket::Tcp(s),
                None => {
                    return Err(MpdError::Io(last.unwrap_or_else(|| {
                        std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
                    })));
                }
            }
        };
        socket.set_read_timeout(Some(COMMAND_TIMEOUT))?;
        let local = matches!(socket, Socket::Unix(_));
        let mut conn = Self {
            reader: BufReader::new(socket.try_clone()?),
            writer: socket,
            local,
        };
        let greeting = conn.line()?;
        if !greeting.starts_with("OK MPD ") {
            return Err(MpdError::Protocol(greeting));
        }
        if let Some(password) = &address.password {
            conn.command(&format!("password {}", quote(password)))?;
        }
        Ok(conn)
    }

    fn line(&mut self) -> Result<String, MpdError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(MpdError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "MPD closed the connection",
            )));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    /// Sends one command; its answer's `key: value` pairs, in order.
    fn command(&mut self, command: &str) -> Result<Vec<(String, String)>, MpdError> {
        self.writer.write_all(format!("{command}\n").as_bytes())?;
        self.writer.flush()?;
        let mut pairs = Vec::new();
        loop {
            let line = self.line()?;
            if line == "OK" {
                return Ok(pairs);
            }
            if let Some(ack) = line.strip_prefix("ACK ") {
                // "[code@n] {command} message": the message.
                let message = ack.split_once("} ").map_or(ack, |(_, m)| m);
                return Err(MpdError::Ack(message.to_owned()));
            }
            match line.split_once(": ") {
                Some((key, value)) => pairs.push((key.to_owned(), value.to_owned())),
                None => return Err(MpdError::Protocol(line)),
            }
        }
    }

    /// Waits (as long as it takes) until the player or the queue changes.
    fn idle(&mut self) -> Result<(), MpdError> {
        self.writer.set_read_timeout(None)?;
        let answer = self.command("idle player playlist");
        self.writer.set_read_timeout(Some(COMMAND_TIMEOUT))?;
        answer.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six tracks on a line (embedding [1, x]): 1..=6, tracks 1-3 by artist "a", 4-6 by "b".
    fn index() -> EmbeddingIndex {
        let ids: Vec<i64> = (1..=6).collect();
        let vectors: Vec<f32> = ids.iter().flat_map(|&i| [1.0, i as f32 * 0.1]).collect();
        let meta = ids
            .iter()
            .map(|&i| musicrec_recommend::TrackMeta {
                artist: Some(if i <= 3 { "a" } else { "b" }.to_owned()),
                title: Some(format!("song {i}")),
                content_hash: None,
                folder: None,
            })
            .collect();
        EmbeddingIndex::new(ids, 2, vectors)
            .unwrap()
            .with_meta(meta)
            .unwrap()
    }

    fn choice<'a>(seeds: &'a [i64], avoid: &'a HashSet<i64>, waiting: &'a [i64]) -> Choice<'a> {
        Choice {
            seeds,
            avoid,
            waiting,
            count: 2,
            method: Method::Similarity,
            max_per_artist: None,
            feedback: Feedback::default(),
        }
    }

    fn ids(hits: &[Hit]) -> Vec<i64> {
        hits.iter().map(|h| h.id).collect()
    }

    #[test]
    fn picks_the_nearest_songs_not_avoided_nor_waiting() {
        let index = index();
        let avoid: HashSet<i64> = [2].into();
        let picks = choose_tracks(&index, &choice(&[1], &avoid, &[1, 3]), |_| true).unwrap();
        assert_eq!(ids(&picks), [4, 5]);
    }

    #[test]
    fn the_artist_cap_counts_the_waiting_songs() {
        let index = index();
        let avoid = HashSet::new();
        let mut c = choice(&[3], &avoid, &[3]);
        c.max_per_artist = Some(2);
        c.count = 3;
        // The ranking is 4, 2, 5, 1, 6; 3 (artist a) waits, so a gets one more (2), b two.
        let picks = choose_tracks(&index, &c, |_| true).unwrap();
        assert_eq!(ids(&picks), [4, 2, 5]);
    }

    #[test]
    fn unqueueable_tracks_are_passed_over_and_the_catalog_may_run_out() {
        let index = index();
        let avoid = HashSet::new();
        let mut c = choice(&[1], &avoid, &[]);
        c.count = 10;
        let picks = choose_tracks(&index, &c, |id| id != 2).unwrap();
        assert_eq!(ids(&picks), [3, 4, 5, 6]);
        assert!(
            choose_tracks(&index, &choice(&[], &avoid, &[]), |_| true)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn disliked_songs_are_never_picked() {
        let index = index();
        let avoid = HashSet::new();
        let mut c = choice(&[1], &avoid, &[]);
        c.feedback.disliked = vec![2];
        assert_eq!(ids(&choose_tracks(&index, &c, |_| true).unwrap()), [3, 4]);
    }

    #[test]
    fn seeds_are_the_last_five_known_distinct_songs() {
        let queue = [
            Some(1),
            Some(2),
            None,
            Some(3),
            Some(4),
            Some(3),
            Some(5),
            Some(6),
            None,
        ];
        assert_eq!(seeds_from_queue(&queue), [2, 4, 3, 5, 6]);
        assert_eq!(seeds_from_queue(&[None]), Vec::<i64>::new());
    }

    #[test]
    fn hosts_and_quoting() {
        let a = Address::parse("pw@media", 6601).unwrap();
        assert_eq!(
            (a.host.as_str(), a.password.as_deref()),
            ("media", Some("pw"))
        );
        assert_eq!(a.to_string(), "media:6601");
        let s = Address::parse("/run/mpd/socket", 6600).unwrap();
        assert!(s.is_socket() && s.password.is_none());
        assert!(Address::parse("@mpd", 6600).is_err());
        assert_eq!(quote(r#"a "b"\c"#), r#""a \"b\"\\c""#);
    }
}
