//! The queue filler: settings, the daemon loop (top up, `idle`, reconnect) and the one-shot mix.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

use musicrec_app::{Listener, ModelIndex, RecommendMethod, UserFeedback};
use musicrec_catalog::CatalogStore;

use crate::library::{Known, Library};
use crate::protocol::value;
use crate::{
    Address, Choice, Connection, Error, Event, EventError, MpdError, MusicDirSource, choose_tracks,
    quote, seeds_from_queue,
};

/// Songs played or queued lately that are not queued again (beyond what the queue holds).
const RECENT: usize = 500;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the radio does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Run until stopped, keeping at least `waiting` songs after the current one.
    KeepGoing { waiting: usize },
    /// Queue `songs` songs like the current one (or the last of the queue), then return.
    Mix { songs: usize },
}

/// How to reach MPD and what to queue.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Host name or address, `PASSWORD@HOST`, or a unix socket's path (see [`Address::parse`]).
    pub host: String,
    /// TCP port.
    pub port: u16,
    pub mode: Mode,
    /// `Similarity` or `Genre` (the collaborative methods rank for a listener, not a queue).
    pub method: RecommendMethod,
    /// At most this many songs by one artist among the songs waiting.
    pub max_per_artist: Option<usize>,
    /// The listener whose dislikes steer the choice and are never queued.
    pub user: Option<String>,
    /// MPD's music directory as this machine sees it (else learned, see [`crate::Event::MusicDir`]).
    pub music_dir: Option<PathBuf>,
}

impl Settings {
    fn check(&self, model: &ModelIndex) -> Result<(), Error> {
        let invalid = |text: &str| Err(Error::Invalid(text.to_owned()));
        match self.mode {
            Mode::KeepGoing { waiting: 0 } => return invalid("keep at least 1 song waiting"),
            Mode::Mix { songs: 0 } => return invalid("a mix has at least 1 song"),
            _ => {}
        }
        if self.max_per_artist == Some(0) {
            return invalid("max_per_artist must be at least 1");
        }
        match self.method {
            RecommendMethod::Similarity => Ok(()),
            RecommendMethod::Genre if model.index.has_genres() => Ok(()),
            RecommendMethod::Genre => Err(Error::Invalid(format!(
                "method genre needs genre probabilities, and model {} has no genres",
                model.model_id
            ))),
            other => Err(Error::Invalid(format!(
                "method {} ranks for a listener: the radio ranks by similarity or genre",
                other.as_str()
            ))),
        }
    }
}

/// Runs the radio: a mix returns once queued; the daemon ([`Mode::KeepGoing`]) returns only on
/// errors that a reconnection does not cure (or when `events` fails). Every line worth telling
/// goes to `events`; the catalog is only read.
pub fn run(
    model: &ModelIndex,
    store: &dyn CatalogStore,
    settings: &Settings,
    events: impl FnMut(Event) -> Result<(), EventError>,
) -> Result<(), Error> {
    settings.check(model)?;
    let mut radio = Radio {
        store,
        model,
        library: Library::new(&model.set, settings.music_dir.as_deref()),
        method: settings.method,
        max_per_artist: settings.max_per_artist,
        user: settings.user.clone(),
        recent: VecDeque::new(),
        refused: HashSet::new(),
        noted: HashSet::new(),
        events,
    };
    if let Some(name) = &settings.user
        && store.user_by_name(name)?.is_none()
    {
        let user = name.trim().to_owned();
        radio.emit(Event::NoRatings { user })?;
    }
    let address = Address::parse(&settings.host, settings.port)?;
    let first = match Connection::open(&address) {
        Ok(mut conn) => {
            radio.learn_music_dir(&mut conn)?;
            Some(conn)
        }
        // Kept running, it waits for an MPD that is not up yet (started after it at boot).
        Err(err) if matches!(settings.mode, Mode::KeepGoing { .. }) && err.is_connection() => None,
        Err(source) => return Err(Error::Unreachable { address, source }),
    };
    match (settings.mode, first) {
        (Mode::Mix { songs }, Some(mut conn)) => radio.mix(&mut conn, songs),
        (Mode::KeepGoing { waiting }, first) => {
            match radio.keep_going(&address, first, waiting)? {}
        }
        (Mode::Mix { .. }, None) => unreachable!("a mix returns when MPD is unreachable"),
    }
}

/// The catalog side and what the radio remembers across reconnections.
struct Radio<'a, F> {
    store: &'a dyn CatalogStore,
    model: &'a ModelIndex,
    library: Library<'a>,
    method: RecommendMethod,
    max_per_artist: Option<usize>,
    user: Option<String>,
    /// Songs queued or played lately, oldest first.
    recent: VecDeque<i64>,
    /// Songs MPD would not add.
    refused: HashSet<i64>,
    /// Notes already given (each once).
    noted: HashSet<Event>,
    events: F,
}

/// A queue as MPD reports it: catalog ids (`None`: unknown) and the current song's position.
struct Queue {
    uris: Vec<String>,
    ids: Vec<Option<i64>>,
    current: Option<usize>,
}

impl<F: FnMut(Event) -> Result<(), EventError>> Radio<'_, F> {
    fn emit(&mut self, event: Event) -> Result<(), Error> {
        (self.events)(event).map_err(Error::Events)
    }

    /// Emits `event` the first time only.
    fn note(&mut self, event: Event) -> Result<(), Error> {
        if self.noted.insert(event.clone()) {
            self.emit(event)?;
        }
        Ok(())
    }

    /// Tells of a music directory the library just learned.
    fn news(&mut self) -> Result<(), Error> {
        match self.library.news() {
            Some(event) => self.emit(event),
            None => Ok(()),
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

    fn learn_music_dir(&mut self, conn: &mut Connection) -> Result<(), Error> {
        if self.library.music_dir.is_some() || !conn.is_local() {
            return Ok(());
        }
        // Answered to local (unix socket) clients only.
        if let Ok(pairs) = conn.command("config")
            && let Some((_, dir)) = pairs.iter().find(|(k, _)| k == "music_directory")
        {
            self.library
                .set_music_dir(Path::new(dir), MusicDirSource::Config);
        }
        self.news()
    }

    /// The listener's feedback: a radio may play favourites again, so only dislikes steer the
    /// choice and stay out. `None` without a user, or for a name nobody has used yet.
    fn feedback(&mut self) -> Result<Option<UserFeedback>, Error> {
        let Some(name) = &self.user else {
            return Ok(None);
        };
        let Some(user) = self.store.user_by_name(name)? else {
            return Ok(None);
        };
        let mut feedback = UserFeedback::of(&self.store.feedback(user.id)?, self.model);
        feedback.liked.clear();
        Ok(Some(feedback))
    }

    fn queue(&mut self, conn: &mut Connection) -> Result<Queue, Error> {
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
            self.news()?;
            let uri = uri.clone();
            match known {
                Known::Track(id) => ids.push(Some(id)),
                Known::Unknown => {
                    self.note(Event::NotInCatalog { uri })?;
                    ids.push(None);
                }
                Known::Ambiguous => {
                    self.note(Event::Ambiguous { uri })?;
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
    ) -> Result<usize, Error> {
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
                listener: feedback.as_ref().map(|feedback| Listener {
                    name: self.user.as_deref().unwrap_or_default(),
                    feedback,
                    cf: None,
                }),
            };
            let library = &self.library;
            let mut outside = Vec::new();
            let picks = choose_tracks(self.model, &choice, |id| {
                let ok = library.uri(id).is_some();
                if !ok {
                    outside.push(id);
                }
                ok
            })
            .map_err(Error::Recommend)?;
            for id in outside {
                let event = Event::OutsideMusicDir {
                    path: self.library.path(id).unwrap_or(Path::new("")).to_owned(),
                    music_dir: self.library.music_dir.clone(),
                };
                self.note(event)?;
            }
            if picks.is_empty() {
                break;
            }
            for hit in picks {
                let uri = self.library.uri(hit.id).expect("picked tracks have a URI");
                match conn.command(&format!("add {}", quote(&uri))) {
                    Ok(_) => {
                        let name = self.library.name(hit.id);
                        self.emit(Event::Queued { uri, name })?;
                        self.remember(hit.id);
                        added += 1;
                    }
                    Err(MpdError::Ack(message)) => {
                        self.emit(Event::Refused { uri, message })?;
                        self.refused.insert(hit.id);
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        }
        Ok(added)
    }

    /// [`Mode::Mix`]: `k` songs like the current one (or the last of the queue).
    fn mix(&mut self, conn: &mut Connection, k: usize) -> Result<(), Error> {
        let queue = self.queue(conn)?;
        let Some(pos) = queue.current.or(queue.uris.len().checked_sub(1)) else {
            return Err(Error::NothingPlays);
        };
        let Some(seed) = queue.ids[pos] else {
            let uri = queue.uris[pos].clone();
            return Err(Error::SeedNotInCatalog { uri });
        };
        let added = self.append(conn, &queue, &[seed], k)?;
        if added == 0 {
            return Err(Error::NothingQueued);
        }
        if added < k {
            self.emit(Event::MixShort {
                queued: added,
                asked: k,
            })?;
        }
        Ok(())
    }

    /// Tops the queue up to `target` waiting songs, once.
    fn top_up(&mut self, conn: &mut Connection, target: usize) -> Result<(), Error> {
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
            return self.note(Event::NoSeeds);
        }
        let added = self.append(conn, &queue, &seeds, target - waiting)?;
        if added < target - waiting {
            self.note(Event::RunningOut)?;
        }
        Ok(())
    }

    /// The daemon: top up, wait for MPD's next player or queue event, again; reconnect when MPD
    /// goes away (after 1 s, doubling up to 30 s). Returns only on errors that a reconnection
    /// does not cure.
    fn keep_going(
        &mut self,
        address: &Address,
        first: Option<Connection>,
        target: usize,
    ) -> Result<std::convert::Infallible, Error> {
        self.emit(Event::KeepingGoing {
            waiting: target,
            address: address.to_string(),
        })?;
        let mut conn = first;
        let mut backoff = FIRST_BACKOFF;
        loop {
            let mut live = match conn.take() {
                Some(live) => live,
                None => match Connection::open(address) {
                    Ok(mut live) => {
                        self.emit(Event::Reconnected {
                            address: address.to_string(),
                        })?;
                        self.learn_music_dir(&mut live)?;
                        backoff = FIRST_BACKOFF;
                        live
                    }
                    Err(err) if err.is_connection() => {
                        self.emit(Event::Waiting {
                            address: address.to_string(),
                            error: err.to_string(),
                            retry_in: backoff,
                        })?;
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                    Err(source) => {
                        let address = address.clone();
                        return Err(Error::Reconnect { address, source });
                    }
                },
            };
            let result = (|| -> Result<std::convert::Infallible, Error> {
                loop {
                    self.top_up(&mut live, target)?;
                    live.idle()?;
                }
            })();
            let Err(err) = result;
            match err {
                Error::Mpd(mpd) if mpd.is_connection() => {
                    self.emit(Event::Lost {
                        address: address.to_string(),
                        error: mpd.to_string(),
                        retry_in: backoff,
                    })?;
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                err => return Err(err),
            }
        }
    }
}
