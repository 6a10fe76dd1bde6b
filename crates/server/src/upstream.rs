//! Companion mode (`musicrec serve --upstream URL --upstream-user USER`, the password from
//! `MUSICREC_UPSTREAM_PASSWORD`): musicrec sits in front of a Subsonic server (Navidrome,
//! Supysonic, ...) that holds the same music. Players connect to musicrec with their upstream
//! account; every `/rest` call musicrec does not answer itself is forwarded to the upstream
//! unchanged ([`Upstream::forward`]: the query with the client's own credentials, the form
//! body, range and caching headers; the answer, audio included, is streamed back), and the
//! similar-songs calls take and return the upstream's song ids and `Child` objects
//! ([`crate::subsonic`]).
//!
//! For that musicrec reads the upstream's library ([`Upstream::refresh`]: `search3` with an empty
//! query page by page, or `getArtists` → `getArtist` → `getAlbum` where that finds nothing) and
//! matches each upstream song to a catalog track: by file path (the upstream's `path` is relative
//! to its library root, so a catalog path ending with it, component by component), else by
//! normalized artist and title with durations within [`DURATION_TOLERANCE_SECS`]. The mapping is
//! kept in memory and rebuilt at start, every `refresh_every` and when the served index is
//! reloaded; a failed read (upstream down, wrong password) is logged and retried with a growing
//! delay, and serving goes on. `GET /api/upstream` reports how many songs matched and lists the
//! unmatched ones; `POST /api/upstream/playlist` makes a playlist of catalog tracks there.
//!
//! musicrec's own calls to the upstream use token authentication (`t`, `s`), falling back to a
//! hex-encoded password (`p=enc:`) for servers without token support (Supysonic). Clients' calls
//! answered by musicrec itself are authenticated by the upstream too: their credentials are sent
//! to the upstream's `ping` and, when accepted, remembered for [`VERIFIED_FOR`].
//!
//! Only `http://` upstreams are supported (a server on the same machine or local network).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, Response, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use md5::{Digest, Md5};
use musicrec_catalog::{TrackId, UpstreamSong};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// Upstream and catalog durations of one song may differ by this much (decoders disagree on
/// padding; tags round).
pub const DURATION_TOLERANCE_SECS: f64 = 2.0;
/// A client's credentials the upstream accepted are not checked again for this long.
pub const VERIFIED_FOR: Duration = Duration::from_secs(300);
/// Longest wait for the upstream's response headers on musicrec's own calls.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Songs per `search3` page.
const PAGE: usize = 500;
/// First retry delay after a failed library read (doubled up to the refresh interval).
const FIRST_RETRY: Duration = Duration::from_secs(5);
/// How often the refresh task looks whether the served index was reloaded.
const INDEX_CHECK: Duration = Duration::from_secs(15);
/// Unmatched songs named in the startup log.
const LOGGED_UNMATCHED: usize = 10;

/// How to reach the upstream server.
#[derive(Clone)]
pub struct UpstreamConfig {
    /// Base URL, e.g. `http://localhost:4533` (the `/rest/...` calls go below it).
    pub url: String,
    pub user: String,
    pub password: String,
    /// How often to read the upstream's library again.
    pub refresh_every: Duration,
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &"<set>")
            .field("refresh_every", &self.refresh_every)
            .finish()
    }
}

/// What went wrong talking to the upstream.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream URL `{url}`: {message}")]
    BadUrl { url: String, message: String },
    #[error("cannot reach the upstream server at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the upstream server answered HTTP {status} to {call}")]
    Http { call: String, status: u16 },
    #[error("the upstream server refused {call}: {message} (Subsonic error {code})")]
    Failed {
        call: String,
        code: u64,
        message: String,
    },
    #[error("the upstream's answer to {call} is not a Subsonic JSON response: {message}")]
    BadAnswer { call: String, message: String },
    /// A playlist was asked for with an empty name.
    #[error("the playlist name is empty")]
    EmptyPlaylistName,
    /// None of the tracks of a playlist has an upstream song (nothing was sent).
    #[error("none of the {tracks} tracks has a song on the upstream server")]
    NoSongsOnUpstream { tracks: usize },
}

/// Upstream songs matched to catalog tracks, as of the last library read.
#[derive(Debug, Default)]
pub struct Mapping {
    /// Upstream song id → catalog track id.
    by_upstream: HashMap<String, i64>,
    /// Catalog track id → the upstream song (its `Child` as the upstream gave it).
    by_catalog: HashMap<i64, Map<String, Value>>,
    /// Upstream `artistId` → catalog ids of its matched songs, in library order.
    by_artist: HashMap<String, Vec<i64>>,
    /// Upstream songs with no catalog track: `{id, path, artist, title}`.
    unmatched: Vec<Value>,
    /// Songs the upstream listed.
    upstream_songs: usize,
    /// Matched by path suffix / by artist, title and duration.
    by_path: usize,
    by_tags: usize,
    /// When the library was read (`None`: not yet, or loaded from the catalog).
    refreshed: Option<SystemTime>,
    /// Every upstream song as the catalog stores it, and their ids.
    rows: Vec<UpstreamSong>,
    ids: HashSet<String>,
}

impl Mapping {
    /// The catalog track of an upstream song id.
    pub fn catalog_id(&self, upstream_id: &str) -> Option<i64> {
        self.by_upstream.get(upstream_id.trim()).copied()
    }

    /// The upstream `Child` of a catalog track.
    pub fn child_of(&self, catalog_id: i64) -> Option<&Map<String, Value>> {
        self.by_catalog.get(&catalog_id)
    }

    /// Catalog ids of an upstream artist's matched songs.
    pub fn artist_tracks(&self, upstream_artist_id: &str) -> &[i64] {
        self.by_artist
            .get(upstream_artist_id.trim())
            .map_or(&[], Vec::as_slice)
    }

    /// Catalog tracks with an upstream song.
    pub fn matched(&self) -> usize {
        self.by_catalog.len()
    }

    /// Upstream songs matched (by path, by tags) and not matched (`{id, path, artist, title}`).
    pub fn counts(&self) -> (usize, usize, &[Value]) {
        (self.by_path, self.by_tags, &self.unmatched)
    }

    /// The mapping the catalog kept from the last sync, for the tracks of `known` (a track
    /// purged since then counts as unmatched until the next read of the library).
    pub fn from_stored(rows: Vec<UpstreamSong>, known: &HashSet<i64>) -> Mapping {
        let mut mapping = Mapping {
            upstream_songs: rows.len(),
            ..Mapping::default()
        };
        for row in rows {
            let Ok(Value::Object(song)) = serde_json::from_str::<Value>(&row.song_json) else {
                continue;
            };
            let found = row
                .track
                .map(|t| t.0)
                .filter(|t| known.contains(t))
                .map(|t| (t, row.matched_by.as_deref() == Some("path")));
            mapping.add(row.upstream_id.clone(), song, found);
        }
        mapping
    }

    /// Records one upstream song: matched to `found` (catalog id, whether by path) or not.
    fn add(&mut self, id: String, song: Map<String, Value>, found: Option<(i64, bool)>) {
        // A song listed twice (paging over a library that changed meanwhile) counts once.
        if !self.ids.insert(id.clone()) {
            return;
        }
        let text = |k: &str| song.get(k).and_then(Value::as_str);
        self.rows.push(UpstreamSong {
            upstream_id: id.clone(),
            track: found.map(|(c, _)| TrackId(c)),
            matched_by: found.map(|(_, by_path)| if by_path { "path" } else { "tags" }.into()),
            song_json: Value::Object(song.clone()).to_string(),
        });
        let Some((catalog_id, by_path)) = found else {
            self.unmatched.push(json!({
                "id": id,
                "path": text("path"),
                "artist": text("artist"),
                "title": text("title"),
            }));
            return;
        };
        if by_path {
            self.by_path += 1;
        } else {
            self.by_tags += 1;
        }
        self.by_upstream.insert(id, catalog_id);
        if let Some(artist) = song.get("artistId").and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }) {
            self.by_artist.entry(artist).or_default().push(catalog_id);
        }
        // Two upstream songs for one file: the first one answers.
        self.by_catalog.entry(catalog_id).or_insert(song);
    }
}

/// How musicrec authenticates its own calls.
fn token_params(user: &str, password: &str, plain: bool) -> Vec<(String, String)> {
    let mut params = vec![("u".to_string(), user.to_string())];
    if plain {
        params.push(("p".into(), format!("enc:{}", hex::encode(password))));
    } else {
        let mut salt = [0u8; 8];
        // A fixed salt only if the OS has no random numbers (the token then repeats).
        let _ = getrandom::fill(&mut salt);
        let salt = hex::encode(salt);
        let token = hex::encode(Md5::digest(format!("{password}{salt}").as_bytes()));
        params.push(("t".into(), token));
        params.push(("s".into(), salt));
    }
    params.extend([
        ("v".into(), crate::subsonic::SUBSONIC_API_VERSION.into()),
        ("c".into(), "musicrec".into()),
        ("f".into(), "json".into()),
    ]);
    params
}

/// The upstream server: its HTTP client, credentials and the current [`Mapping`].
pub struct Upstream {
    /// Base URL without a trailing `/`.
    base: String,
    user: String,
    password: String,
    refresh_every: Duration,
    client: Client<HttpConnector, Full<Bytes>>,
    /// The upstream refused token authentication and took the password (`p=enc:`).
    plain_auth: AtomicBool,
    mapping: RwLock<Arc<Mapping>>,
    last_error: Mutex<Option<String>>,
    /// Client credentials the upstream accepted, and when.
    verified: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("base", &self.base)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// Checks the URL (an `http://` one) and makes the client; nothing is sent yet.
    pub fn new(config: UpstreamConfig) -> Result<Arc<Self>, UpstreamError> {
        let url = config.url.trim().trim_end_matches('/').to_string();
        let bad = |message: &str| UpstreamError::BadUrl {
            url: config.url.clone(),
            message: message.to_string(),
        };
        let uri: Uri = url.parse().map_err(|e| bad(&format!("{e}")))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(bad(
                    "https is not supported: give the server's http:// address on this machine or network",
                ));
            }
            _ => return Err(bad("write it as http://HOST:PORT")),
        }
        if uri.host().is_none() {
            return Err(bad("no host"));
        }
        if uri.query().is_some() {
            return Err(bad("no query string, please: just http://HOST:PORT[/PATH]"));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        Ok(Arc::new(Self {
            base: url,
            user: config.user,
            password: config.password,
            refresh_every: config.refresh_every,
            client: Client::builder(TokioExecutor::new()).build(connector),
            plain_auth: AtomicBool::new(false),
            mapping: RwLock::new(Arc::new(Mapping::default())),
            last_error: Mutex::new(None),
            verified: Mutex::new(HashMap::new()),
        }))
    }

    /// The upstream's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The current mapping.
    pub fn mapping(&self) -> Arc<Mapping> {
        self.mapping
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn unreachable(&self, message: impl std::fmt::Display) -> UpstreamError {
        UpstreamError::Unreachable {
            url: self.base.clone(),
            message: message.to_string(),
        }
    }

    /// Sends one request to `/rest/{call}?{query}`; the response as it comes (body unread).
    async fn send(
        &self,
        method: Method,
        call: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response<hyper::body::Incoming>, UpstreamError> {
        let uri = match query.filter(|q| !q.is_empty()) {
            Some(q) => format!("{}/rest/{call}?{q}", self.base),
            None => format!("{}/rest/{call}", self.base),
        };
        let mut request = Request::builder()
            .method(method)
            .uri(&uri)
            .body(Full::new(body))
            .map_err(|e| self.unreachable(e))?;
        request.headers_mut().extend(headers.clone());
        match tokio::time::timeout(CALL_TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => {
                let mut message = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    message = format!("{message}: {s}");
                    source = s.source();
                }
                Err(self.unreachable(message))
            }
            Err(_) => {
                Err(self.unreachable(format!("no answer within {} s", CALL_TIMEOUT.as_secs())))
            }
        }
    }

    /// One JSON call with `params` as given (no credentials added); the envelope's content.
    async fn call_with(
        &self,
        call: &str,
        params: &[(String, String)],
    ) -> Result<Map<String, Value>, UpstreamError> {
        let query = serde_urlencoded::to_string(params).unwrap_or_default();
        let response = self
            .send(
                Method::GET,
                call,
                Some(&query),
                &HeaderMap::new(),
                Bytes::new(),
            )
            .await?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.unreachable(e))?
            .to_bytes();
        let bad_answer = |message: String| UpstreamError::BadAnswer {
            call: call.to_string(),
            message,
        };
        let doc: Value = match serde_json::from_slice(&body) {
            Ok(doc) => doc,
            Err(_) if !status.is_success() => {
                return Err(UpstreamError::Http {
                    call: call.to_string(),
                    status: status.as_u16(),
                });
            }
            Err(e) => return Err(bad_answer(e.to_string())),
        };
        let Some(Value::Object(envelope)) = doc.get("subsonic-response").cloned() else {
            return Err(bad_answer("no subsonic-response object".into()));
        };
        if envelope.get("status").and_then(Value::as_str) == Some("ok") {
            return Ok(envelope);
        }
        let error = envelope.get("error");
        Err(UpstreamError::Failed {
            call: call.to_string(),
            code: error
                .and_then(|e| e.get("code"))
                .and_then(Value::as_u64)
                .unwrap_or(0),
            message: error
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("no message")
                .to_string(),
        })
    }

    /// One JSON call as musicrec's own user: token authentication, or the password for servers
    /// that refuse tokens (then remembered).
    pub async fn call(
        &self,
        call: &str,
        extra: &[(&str, String)],
    ) -> Result<Map<String, Value>, UpstreamError> {
        let with_auth = |plain: bool| {
            let mut params = token_params(&self.user, &self.password, plain);
            params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
            params
        };
        if self.plain_auth.load(Ordering::Relaxed) {
            return self.call_with(call, &with_auth(true)).await;
        }
        match self.call_with(call, &with_auth(false)).await {
            // Token authentication not supported (41), or taken as a missing password (10) or
            // wrong credentials (40) by servers that only know `p`: try the password.
            Err(UpstreamError::Failed {
                code: 10 | 40 | 41, ..
            })
            | Err(UpstreamError::Http {
                status: 400 | 401, ..
            }) => {
                let answer = self.call_with(call, &with_auth(true)).await?;
                if !self.plain_auth.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        "upstream {} refuses token authentication: using the password",
                        self.base
                    );
                }
                Ok(answer)
            }
            other => other,
        }
    }

    /// Every song of the upstream library as its `Child` object: `search3` with an empty query,
    /// page by page; `getArtists` → `getArtist` → `getAlbum` if that finds nothing.
    pub async fn fetch_library(&self) -> Result<Vec<Map<String, Value>>, UpstreamError> {
        let mut songs: Vec<Map<String, Value>> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut offset = 0;
        let mut searched = true;
        loop {
            let page = self
                .call(
                    "search3",
                    &[
                        ("query", String::new()),
                        ("artistCount", "0".into()),
                        ("albumCount", "0".into()),
                        ("songCount", PAGE.to_string()),
                        ("songOffset", offset.to_string()),
                    ],
                )
                .await;
            let page = match page {
                Ok(page) => page,
                // Down, or the credentials are wrong: browsing would fail the same way.
                Err(
                    e @ (UpstreamError::Unreachable { .. }
                    | UpstreamError::Failed { code: 40 | 41, .. }),
                ) => return Err(e),
                Err(e) if offset == 0 => {
                    tracing::info!("upstream search3 with an empty query failed ({e}): browsing");
                    searched = false;
                    break;
                }
                Err(e) => return Err(e),
            };
            let list = song_list(page.get("searchResult3"));
            let n = list.len();
            let before = songs.len();
            for song in list {
                if let Some(id) = song_id(&song)
                    && seen.insert(id)
                {
                    songs.push(song);
                }
            }
            // A page that adds nothing new: the server ignores the offset or the list ended.
            if n < PAGE || songs.len() == before {
                break;
            }
            offset += n;
        }
        if searched && !songs.is_empty() {
            return Ok(songs);
        }
        let artists = self.call("getArtists", &[]).await?;
        let artist_ids: Vec<String> = artists
            .get("artists")
            .and_then(|a| a.get("index"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|index| list_of(index.get("artist")))
            .filter_map(|a| song_id(&a))
            .collect();
        for artist in artist_ids {
            let answer = self.call("getArtist", &[("id", artist)]).await?;
            let albums: Vec<String> = list_of(answer.get("artist").and_then(|a| a.get("album")))
                .iter()
                .filter_map(song_id)
                .collect();
            for album in albums {
                let answer = self.call("getAlbum", &[("id", album)]).await?;
                for song in list_of(answer.get("album").and_then(|a| a.get("song"))) {
                    if let Some(id) = song_id(&song)
                        && seen.insert(id)
                    {
                        songs.push(song);
                    }
                }
            }
        }
        Ok(songs)
    }

    /// Reads the upstream library, matches it to the catalog's embedded tracks and swaps the
    /// mapping in; logs a summary.
    pub async fn refresh(&self, app: &AppState) -> Result<Arc<Mapping>, UpstreamError> {
        let songs = self.fetch_library().await?;
        let ids: Vec<i64> = app
            .index()
            .map(|i| i.set.tracks.iter().map(|t| t.id.0).collect())
            .unwrap_or_default();
        let catalog = app
            .with_store(move |store| {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    if let Some(t) = store.track(TrackId(id))? {
                        out.push(CatalogSong::of(t));
                    }
                }
                Ok(out)
            })
            .await
            .map_err(|e| UpstreamError::BadAnswer {
                call: "the catalog".into(),
                message: e.message,
            })?;
        let mapping = Arc::new(match_songs(songs, &catalog));
        *self.mapping.write().unwrap_or_else(|p| p.into_inner()) = mapping.clone();
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
        // Kept in the catalog, so that a restart answers with the upstream's ids at once.
        let (key, rows) = (self.store_key(), mapping.rows.clone());
        let synced = app
            .with_store(move |store| match store.upstream_mut() {
                Some(kept) => Ok(Some(kept.sync_upstream_songs(&key, &rows)?)),
                None => Ok(None),
            })
            .await;
        match synced {
            Ok(Some(sync)) if sync.added + sync.updated + sync.removed > 0 => eprintln!(
                "musicrec: upstream {}: catalog updated: {} songs added, {} changed, {} removed",
                self.base, sync.added, sync.updated, sync.removed
            ),
            Ok(_) => {}
            Err(e) => eprintln!(
                "musicrec: upstream {}: the matching could not be kept in the catalog: {}",
                self.base, e.message
            ),
        }
        let names: Vec<String> = mapping
            .unmatched
            .iter()
            .take(LOGGED_UNMATCHED)
            .map(|s| {
                s.get("path")
                    .or_else(|| s.get("title"))
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string()
            })
            .collect();
        eprintln!(
            "musicrec: upstream {}: {} of {} songs matched to the catalog ({} by path, {} by artist/title/duration); {} unmatched{}{}",
            self.base,
            mapping.by_upstream.len(),
            mapping.upstream_songs,
            mapping.by_path,
            mapping.by_tags,
            mapping.unmatched.len(),
            if names.is_empty() {
                String::new()
            } else {
                format!(": {}", names.join(", "))
            },
            if mapping.unmatched.len() > names.len() {
                ", ... (GET /api/upstream lists them all)"
            } else {
                ""
            }
        );
        Ok(mapping)
    }

    /// Where the catalog keeps this upstream's songs: its URL and user.
    fn store_key(&self) -> String {
        format!("{} {}", self.base, self.user)
    }

    /// Serves the mapping the catalog kept from the last sync until the library is read again;
    /// the number of upstream songs it holds.
    pub async fn load_stored(&self, app: &AppState) -> Result<usize, ApiError> {
        let key = self.store_key();
        let rows = app
            .with_store(move |store| match store.upstream() {
                Some(kept) => Ok(kept.upstream_songs(&key)?),
                None => Ok(Vec::new()),
            })
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let known: HashSet<i64> = app
            .index()
            .map(|i| i.set.tracks.iter().map(|t| t.id.0).collect())
            .unwrap_or_default();
        let mapping = Mapping::from_stored(rows, &known);
        eprintln!(
            "musicrec: upstream {}: {} of {} songs matched at the last sync, served until the library is read again",
            self.base,
            mapping.by_upstream.len(),
            mapping.upstream_songs
        );
        let songs = mapping.upstream_songs;
        *self.mapping.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(mapping);
        Ok(songs)
    }

    /// Reads the library now and then every `refresh_every`, and soon after the served index is
    /// reloaded (the catalog changed); after a failure, again after 5 s,
    /// 10 s, 20 s, ... (at most `refresh_every`), each failure logged with its reason (the
    /// previous mapping, if any, stays in use).
    pub fn spawn_refresh(self: Arc<Self>, app: AppState) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            if let Err(e) = self.load_stored(&app).await {
                eprintln!(
                    "musicrec: upstream {}: the catalog's kept matching could not be read: {}",
                    self.base, e.message
                );
            }
            let mut retry = FIRST_RETRY;
            loop {
                match self.refresh(&app).await {
                    Ok(_) => {
                        retry = FIRST_RETRY;
                        // Until the next read is due, or the served index changed (a scan added
                        // tracks the upstream may have: match them now rather than later).
                        let revision = app.index().map(|i| i.revision);
                        let due = Instant::now() + self.refresh_every;
                        while Instant::now() < due && app.index().map(|i| i.revision) == revision {
                            let left = due.saturating_duration_since(Instant::now());
                            tokio::time::sleep(left.min(INDEX_CHECK)).await;
                        }
                    }
                    Err(e) => {
                        let hint = match &e {
                            UpstreamError::Failed { code: 40, .. } => {
                                " (check --upstream-user and MUSICREC_UPSTREAM_PASSWORD)"
                            }
                            _ => "",
                        };
                        eprintln!(
                            "musicrec: cannot read the upstream library: {e}{hint}; retrying in {} s",
                            retry.as_secs()
                        );
                        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(e.to_string());
                        tokio::time::sleep(retry).await;
                        retry = (retry * 2).min(self.refresh_every.max(FIRST_RETRY));
                    }
                }
            }
        })
    }

    /// Forwards a client's call unchanged: method, `call` (with its `.view`, if any), query,
    /// form body and the headers that matter; the upstream's answer is streamed back.
    pub async fn forward(
        &self,
        method: Method,
        call: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<axum::response::Response, UpstreamError> {
        let mut forwarded = HeaderMap::new();
        for name in [
            header::CONTENT_TYPE,
            header::RANGE,
            header::IF_RANGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::USER_AGENT,
            header::AUTHORIZATION,
        ] {
            if let Some(v) = headers.get(&name) {
                forwarded.insert(name, v.clone());
            }
        }
        let response = self.send(method, call, query, &forwarded, body).await?;
        let (mut parts, body) = response.into_parts();
        for hop in [
            header::CONNECTION,
            header::TRANSFER_ENCODING,
            header::UPGRADE,
            header::PROXY_AUTHENTICATE,
            header::TE,
            header::TRAILER,
        ] {
            parts.headers.remove(hop);
        }
        parts.headers.remove("keep-alive");
        Ok(Response::from_parts(parts, Body::new(body)))
    }

    /// Whether the upstream accepts a client's credentials (the Subsonic parameters `u`, `p`,
    /// `t`, `s`, `apiKey` and an `Authorization` header), asking its `ping` at most once per
    /// [`VERIFIED_FOR`]. The error is the upstream's (code, message).
    pub async fn verify_client(
        &self,
        params: &[(String, String)],
        headers: &HeaderMap,
    ) -> Result<(), (u64, String)> {
        let creds: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "u" | "p" | "t" | "s" | "apiKey"))
            .cloned()
            .collect();
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let key = hex::encode(Md5::digest(
            format!("{creds:?}\u{0}{authorization}").as_bytes(),
        ));
        {
            let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            verified.retain(|_, at| at.elapsed() < VERIFIED_FOR);
            if verified.contains_key(&key) {
                return Ok(());
            }
        }
        let mut query = creds;
        query.extend([
            (
                "v".to_string(),
                crate::subsonic::SUBSONIC_API_VERSION.into(),
            ),
            ("c".to_string(), "musicrec".into()),
            ("f".to_string(), "json".into()),
        ]);
        let mut forwarded = HeaderMap::new();
        if let Some(v) = headers.get(header::AUTHORIZATION) {
            forwarded.insert(header::AUTHORIZATION, v.clone());
        }
        let response = self
            .send(
                Method::GET,
                "ping",
                Some(&serde_urlencoded::to_string(&query).unwrap_or_default()),
                &forwarded,
                Bytes::new(),
            )
            .await
            .map_err(|e| (0, e.to_string()))?;
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| (0, self.unreachable(e).to_string()))?
            .to_bytes();
        let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let envelope = &doc["subsonic-response"];
        if envelope["status"] == "ok" {
            let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            if verified.len() > 10_000 {
                verified.clear();
            }
            verified.insert(key, Instant::now());
            return Ok(());
        }
        Err((
            envelope["error"]["code"].as_u64().unwrap_or(40),
            envelope["error"]["message"]
                .as_str()
                .unwrap_or("the upstream server refused these credentials")
                .to_string(),
        ))
    }

    /// Creates the playlist `name` of musicrec's user on the upstream with `songs` (upstream
    /// ids, in order), or replaces the songs of the one of that name it already has (Subsonic
    /// `createPlaylist` with `playlistId`). Returns the playlist id and whether it existed.
    pub async fn replace_playlist(
        &self,
        name: &str,
        songs: &[String],
    ) -> Result<(String, bool), UpstreamError> {
        let existing = self.playlist_id(name).await?;
        let mut params: Vec<(&str, String)> = match &existing {
            Some(id) => vec![("playlistId", id.clone())],
            None => vec![("name", name.to_string())],
        };
        params.extend(songs.iter().map(|id| ("songId", id.clone())));
        let answer = self.call("createPlaylist", &params).await?;
        if let Some(id) = existing {
            return Ok((id, true));
        }
        // Servers of API 1.14+ answer the new playlist; older ones (Supysonic) nothing.
        let id = match answer
            .get("playlist")
            .and_then(|p| p.as_object())
            .and_then(song_id)
        {
            Some(id) => Some(id),
            None => self.playlist_id(name).await?,
        };
        let id = id.ok_or_else(|| UpstreamError::BadAnswer {
            call: "createPlaylist".into(),
            message: format!("no playlist {name} after creating it"),
        })?;
        Ok((id, false))
    }

    /// Creates or replaces the playlist `name` with the upstream songs of catalog `tracks` under
    /// `mapping`, in order; tracks without one are skipped and listed. Nothing is sent when the
    /// name is empty or no track has an upstream song.
    pub async fn push_mapped(
        &self,
        mapping: &Mapping,
        name: &str,
        tracks: &[i64],
    ) -> Result<PlaylistPushed, UpstreamError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(UpstreamError::EmptyPlaylistName);
        }
        let mut songs = Vec::new();
        let mut skipped = Vec::new();
        for &id in tracks {
            match mapping.child_of(id).and_then(song_id) {
                Some(song) => songs.push(song),
                None => skipped.push(id),
            }
        }
        if songs.is_empty() {
            return Err(UpstreamError::NoSongsOnUpstream {
                tracks: skipped.len(),
            });
        }
        let (playlist_id, replaced) = self.replace_playlist(name, &songs).await?;
        Ok(PlaylistPushed {
            playlist_id,
            name: name.to_string(),
            replaced,
            songs: songs.len(),
            skipped,
        })
    }

    /// The id of musicrec's user's playlist called `name`, if any.
    async fn playlist_id(&self, name: &str) -> Result<Option<String>, UpstreamError> {
        let answer = self.call("getPlaylists", &[]).await?;
        Ok(
            list_of(answer.get("playlists").and_then(|p| p.get("playlist")))
                .iter()
                .filter(|p| p.get("name").and_then(Value::as_str) == Some(name))
                .filter(|p| {
                    p.get("owner")
                        .and_then(Value::as_str)
                        .is_none_or(|owner| owner == self.user)
                })
                .find_map(song_id),
        )
    }

    /// The report of `GET /api/upstream`.
    pub fn report(&self) -> Value {
        let m = self.mapping();
        json!({
            "url": self.base,
            "user": self.user,
            "auth": if self.plain_auth.load(Ordering::Relaxed) { "password" } else { "token" },
            "refreshed_at": m.refreshed.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs()),
            "refresh_every_secs": self.refresh_every.as_secs(),
            "last_error": *self.last_error.lock().unwrap_or_else(|p| p.into_inner()),
            "upstream_songs": m.upstream_songs,
            "matched": m.by_upstream.len(),
            "matched_by_path": m.by_path,
            "matched_by_tags": m.by_tags,
            "catalog_tracks_matched": m.matched(),
            "unmatched_count": m.unmatched.len(),
            "unmatched": m.unmatched,
        })
    }
}

/// `GET /api/upstream`: the companion mode's state: upstream, songs matched, unmatched songs.
#[utoipa::path(get, path = "/api/upstream", tag = "system",
    responses((status = 200, description = "url, user, auth, refreshed_at, last_error, upstream_songs, matched, unmatched_count, unmatched: [{id, path, artist, title}]"),
              (status = 404, description = "Not in companion mode (no --upstream)")))]
pub async fn report(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let upstream = app.upstream().ok_or_else(|| {
        ApiError::not_found("not in companion mode: start musicrec serve with --upstream URL")
    })?;
    Ok(Json(upstream.report()))
}

/// Body of `POST /api/upstream/playlist`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaylistBody {
    /// Playlist name on the upstream (a playlist of musicrec's upstream user with this name is
    /// replaced).
    pub name: String,
    /// Catalog track ids, in order (those without an upstream song are skipped and listed).
    pub tracks: Vec<i64>,
}

/// Answer of `POST /api/upstream/playlist`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PlaylistOut {
    /// The upstream's playlist id.
    pub playlist_id: String,
    pub name: String,
    /// Whether a playlist of that name existed and was replaced.
    pub replaced: bool,
    /// Songs in the playlist now.
    pub songs: usize,
    /// Catalog track ids with no upstream song.
    pub skipped: Vec<i64>,
}

/// Creates or replaces a playlist on the upstream server with these catalog tracks (companion
/// mode; `musicrec mix|recommend --to-upstream-playlist NAME` does the same without a server,
/// through [`push_playlist`]).
#[utoipa::path(post, path = "/api/upstream/playlist", tag = "system", request_body = PlaylistBody,
    responses((status = 200, description = "The playlist as now on the upstream", body = PlaylistOut),
              (status = 400, description = "Malformed body, an empty name, or no track with an upstream song", body = crate::error::ErrorBody),
              (status = 404, description = "Not in companion mode (no --upstream)", body = crate::error::ErrorBody),
              (status = 502, description = "The upstream failed or could not be reached", body = crate::error::ErrorBody)))]
pub async fn playlist(
    State(app): State<AppState>,
    crate::error::ApiJson(body): crate::error::ApiJson<PlaylistBody>,
) -> Result<Json<PlaylistOut>, ApiError> {
    let upstream = app.upstream().ok_or_else(|| {
        ApiError::not_found("not in companion mode: start musicrec serve with --upstream URL")
    })?;
    let pushed = upstream
        .push_mapped(&upstream.mapping(), &body.name, &body.tracks)
        .await
        .map_err(|e| match e {
            UpstreamError::EmptyPlaylistName => ApiError::bad_request(e.to_string()),
            UpstreamError::NoSongsOnUpstream { .. } => {
                ApiError::bad_request(format!("{e} (GET /api/upstream lists the matching)"))
            }
            e => ApiError::new(
                axum::http::StatusCode::BAD_GATEWAY,
                "upstream",
                e.to_string(),
            ),
        })?;
    Ok(Json(PlaylistOut {
        playlist_id: pushed.playlist_id,
        name: pushed.name,
        replaced: pushed.replaced,
        songs: pushed.songs,
        skipped: pushed.skipped,
    }))
}

/// A playlist as [`push_playlist`] and [`Upstream::push_mapped`] left it on the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistPushed {
    /// The upstream's playlist id.
    pub playlist_id: String,
    /// The name, trimmed.
    pub name: String,
    /// Whether musicrec's user had a playlist of that name, now replaced.
    pub replaced: bool,
    /// Songs in the playlist now.
    pub songs: usize,
    /// Catalog ids of the tracks with no upstream song, in order.
    pub skipped: Vec<i64>,
}

/// Creates or replaces the playlist `name` of musicrec's user on the upstream with `tracks`
/// (catalog tracks, in order), outside the server (`musicrec mix --to-upstream-playlist NAME`):
/// reads the upstream's library now, matches it to these tracks only (as [`match_songs`] does
/// for the whole catalog) and sends the matched ones; the others are listed in
/// [`PlaylistPushed::skipped`].
pub async fn push_playlist(
    upstream: &Upstream,
    name: &str,
    tracks: &[CatalogSong],
) -> Result<PlaylistPushed, UpstreamError> {
    if name.trim().is_empty() {
        return Err(UpstreamError::EmptyPlaylistName);
    }
    let mapping = match_songs(upstream.fetch_library().await?, tracks);
    let ids: Vec<i64> = tracks.iter().map(|t| t.id).collect();
    upstream.push_mapped(&mapping, name, &ids).await
}

/// The objects of a Subsonic list field (an array, or one object where a server collapsed it).
fn list_of(value: Option<&Value>) -> Vec<Map<String, Value>> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_object().cloned())
            .collect(),
        Some(Value::Object(m)) => vec![m.clone()],
        _ => Vec::new(),
    }
}

fn song_list(result: Option<&Value>) -> Vec<Map<String, Value>> {
    list_of(result.and_then(|r| r.get("song")))
}

/// An entity's `id` as a string (some servers send numbers).
fn song_id(entity: &Map<String, Value>) -> Option<String> {
    match entity.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A catalog track as matching needs it.
#[derive(Debug, Clone)]
pub struct CatalogSong {
    pub id: i64,
    pub path: std::path::PathBuf,
    /// [`tag_key`] of its artist and title (`None` without both).
    pub key: Option<String>,
    pub duration: Option<f64>,
}

impl CatalogSong {
    /// A catalog track with its path, artist and title key and duration.
    pub fn of(track: musicrec_catalog::Track) -> Self {
        CatalogSong {
            id: track.id.0,
            key: tag_key(track.tags.artist.as_deref(), track.tags.title.as_deref()),
            path: track.path,
            duration: track.duration_secs,
        }
    }
}

/// Lower-case letters and digits, other characters as single spaces.
fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The key songs are matched on by tags: normalized artist and title.
pub fn tag_key(artist: Option<&str>, title: Option<&str>) -> Option<String> {
    let (artist, title) = (normalize(artist?), normalize(title?));
    (!artist.is_empty() && !title.is_empty()).then(|| format!("{artist}\u{1f}{title}"))
}

/// Matches upstream songs to catalog tracks: by path suffix, else by tags and duration.
pub fn match_songs(songs: Vec<Map<String, Value>>, catalog: &[CatalogSong]) -> Mapping {
    let mut by_name: HashMap<&std::ffi::OsStr, Vec<&CatalogSong>> = HashMap::new();
    let mut by_key: HashMap<&str, Vec<&CatalogSong>> = HashMap::new();
    for song in catalog {
        if let Some(name) = song.path.file_name() {
            by_name.entry(name).or_default().push(song);
        }
        if let Some(key) = &song.key {
            by_key.entry(key.as_str()).or_default().push(song);
        }
    }
    let mut mapping = Mapping {
        upstream_songs: songs.len(),
        refreshed: Some(SystemTime::now()),
        ..Mapping::default()
    };
    for song in songs {
        let Some(id) = song_id(&song) else { continue };
        let text = |k: &str| song.get(k).and_then(Value::as_str);
        let duration = song.get("duration").and_then(Value::as_f64);
        let by_path = text("path").and_then(|p| {
            let rel = Path::new(p.trim_start_matches('/'));
            by_name
                .get(rel.file_name()?)?
                .iter()
                .find(|c| c.path.ends_with(rel))
                .map(|c| c.id)
        });
        let by_tags = || {
            let key = tag_key(text("artist"), text("title"))?;
            by_key
                .get(key.as_str())?
                .iter()
                .filter_map(|c| {
                    let gap = match (c.duration, duration) {
                        (Some(a), Some(b)) => (a - b).abs(),
                        _ => 0.0,
                    };
                    (gap <= DURATION_TOLERANCE_SECS).then_some((gap, c.id))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, id)| id)
        };
        let found = match by_path {
            Some(c) => Some((c, true)),
            None => by_tags().map(|c| (c, false)),
        };
        mapping.add(id, song, found);
    }
    mapping
}
