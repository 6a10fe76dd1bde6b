//! OpenSubsonic-compatible calls under `/rest` (with or without the `.view` suffix, GET or form
//! POST), so that Subsonic clients and servers can ask musicrec for sonically similar songs:
//!
//! * `ping`, `getOpenSubsonicExtensions` (the latter needs no authentication, as the spec says);
//! * `getLicense` (always valid) and `getMusicFolders` (one folder, id 1, "musicrec"), which
//!   clients call right after connecting;
//! * `getSimilarSongs`, `getSimilarSongs2` (`id` = an artist id as the spec has it, i.e. the
//!   `artistId` of a song musicrec returned, whose songs (up to five) are the seeds; or a song id,
//!   which many clients send for an "instant mix"; `count` default 50, at most 500): method 1
//!   (cosine similarity of the embeddings), answered in `similarSongs{,2}.song`;
//! * `getSonicSimilarTracks` (`id`, `count` default 10) and `findSonicPath` (`startSongId`,
//!   `endSongId`, `count` default 25) of the `sonicSimilarity` extension, answered in
//!   `sonicSimilarTracksResult` / `findSonicPathResult` as a `sonicMatch` array: `Child` fields
//!   plus `distance`, the normalized cosine distance (1 - cosine) / 2 in [0, 1] from the query
//!   song (0 = identical), as the OpenSubsonic documentation defines it.
//!
//! Every other call (`getArtists`, `search3`, `getSong`, `stream`, ...) is answered with a
//! Subsonic error, code 0 "not implemented", never an HTTP error: musicrec alone is no music
//! server. In companion mode (`musicrec serve --upstream URL`, [`crate::upstream`]) those calls
//! are instead forwarded to the upstream Subsonic server unchanged (query, the client's own
//! credentials, the body streamed back), and the four similar-songs calls take and return the
//! upstream's song ids and `Child` objects; the client's credentials are then checked by the
//! upstream (a `ping` with them, remembered for a few minutes) rather than against musicrec's token.
//!
//! Every answer is a `subsonic-response` envelope with `status`, `version`, `type`,
//! `serverVersion` and `openSubsonic: true`, in JSON (`f=json`) or XML (default). Errors are
//! envelopes with `status: failed` and `error {code, message}`, always with HTTP 200, as Subsonic
//! clients expect. Songs are `Child` objects: `id`, `isDir`, `title`, `album`,
//! `artist`, `artistId`, `genre` (the model's top genre), `duration`, `size`, `suffix`,
//! `contentType`, `path` (file name only), `type: music`, `isVideo`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use musicrec_app::RecommendQuery;
use musicrec_catalog::{Track, TrackId};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Value, json};

use crate::auth::Access;
use crate::state::{AppState, LoadedIndex};
use crate::upstream::{Mapping, Upstream};

/// The Subsonic API version whose shapes are served.
pub const SUBSONIC_API_VERSION: &str = "1.16.1";
/// `type` in every envelope.
pub const SERVER_TYPE: &str = "musicrec";
/// Largest form body read from a POST.
const MAX_FORM_BYTES: usize = 16 * 1024;
const MAX_COUNT: usize = 500;

/// Subsonic error codes used here.
mod code {
    pub const GENERIC: u32 = 0;
    pub const MISSING_PARAMETER: u32 = 10;
    pub const WRONG_CREDENTIALS: u32 = 40;
    pub const NOT_FOUND: u32 = 70;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Failure {
    code: u32,
    message: String,
}

fn fail(code: u32, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn envelope(status: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), json!(status));
    m.insert("version".into(), json!(SUBSONIC_API_VERSION));
    m.insert("type".into(), json!(SERVER_TYPE));
    m.insert("serverVersion".into(), json!(env!("CARGO_PKG_VERSION")));
    m.insert("openSubsonic".into(), json!(true));
    m
}

fn render(format: Format, http: StatusCode, body: Map<String, Value>) -> Response {
    match format {
        Format::Json => {
            let doc = json!({ "subsonic-response": Value::Object(body) });
            (http, axum::Json(doc)).into_response()
        }
        Format::Xml => {
            let xml = to_xml(&body);
            (
                http,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/xml; charset=utf-8"),
                )],
                xml,
            )
                .into_response()
        }
    }
}

/// Subsonic's XML form of a JSON response: scalar fields are attributes, objects are child
/// elements, arrays are repeated child elements named by their key (arrays of scalars repeat
/// the key as an element with text content, as in `<versions>1</versions>`).
fn to_xml(body: &Map<String, Value>) -> Vec<u8> {
    fn element(writer: &mut Writer<Vec<u8>>, name: &str, map: &Map<String, Value>, root: bool) {
        let mut start = BytesStart::new(name);
        if root {
            start.push_attribute(("xmlns", "http://subsonic.org/restapi"));
        }
        let scalar = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        for (k, v) in map {
            if let Some(text) = scalar(v) {
                start.push_attribute((k.as_str(), text.as_str()));
            }
        }
        let children: Vec<(&String, &Value)> = map
            .iter()
            .filter(|(_, v)| v.is_object() || v.is_array())
            .collect();
        if children.is_empty() {
            let _ = writer.write_event(Event::Empty(start));
            return;
        }
        let _ = writer.write_event(Event::Start(start));
        for (k, v) in children {
            match v {
                Value::Object(m) => element(writer, k, m, false),
                Value::Array(items) => {
                    for item in items {
                        match item {
                            Value::Object(m) => element(writer, k, m, false),
                            other => {
                                if let Some(text) = scalar(other) {
                                    let _ = writer.write_event(Event::Start(BytesStart::new(k)));
                                    let _ = writer.write_event(Event::Text(BytesText::new(&text)));
                                    let _ = writer.write_event(Event::End(BytesEnd::new(k)));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let _ = writer.write_event(Event::End(BytesEnd::new(name)));
    }
    let mut writer = Writer::new(Vec::new());
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    element(&mut writer, "subsonic-response", body, true);
    writer.into_inner()
}

/// The query's parameters, and a form body's.
fn params_of(uri: &axum::http::Uri, is_form: bool, body: &Bytes) -> Params {
    let mut params: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    if is_form && let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        params.extend(form);
    }
    Params(params)
}

/// Every `/rest/{call}` request.
#[utoipa::path(method(get, post), path = "/rest/{call}", tag = "subsonic",
    params(("call" = String, Path, description = "ping, getOpenSubsonicExtensions, getLicense, getMusicFolders, getSimilarSongs, getSimilarSongs2, getSonicSimilarTracks or findSonicPath, optionally with `.view` (any other call: a not-implemented envelope, or forwarded to the upstream in companion mode)"),
           ("f" = Option<String>, Query, description = "`json`, else XML"),
           ("id" = Option<String>, Query, description = "Catalog track id (similar-songs calls)"),
           ("count" = Option<u32>, Query, description = "How many songs"),
           ("u" = Option<String>, Query, description = "Subsonic user (any name)"),
           ("p" = Option<String>, Query, description = "The server token as password (`enc:HEX` allowed)"),
           ("t" = Option<String>, Query, description = "md5(token + s)"),
           ("s" = Option<String>, Query, description = "Salt for `t`"),
           ("apiKey" = Option<String>, Query, description = "The server token")),
    responses((status = 200, description = "A subsonic-response envelope (status ok or failed); in companion mode, what the upstream answered to a forwarded call")))]
pub async fn rest(
    State(app): State<AppState>,
    Extension(access): Extension<Access>,
    axum::extract::Path(call_path): axum::extract::Path<String>,
    request: Request,
) -> Response {
    let call = call_path
        .strip_suffix(".view")
        .unwrap_or(&call_path)
        .to_string();
    let upstream = app.upstream().cloned();
    // Authentication is checked against the same request the parameters come from.
    let (parts, body) = request.into_parts();
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    // The body holds parameters in a form POST, and in companion mode is forwarded as it is.
    let body = match (&upstream, is_form) {
        (Some(_), _) => axum::body::to_bytes(body, crate::BODY_LIMIT_BYTES)
            .await
            .unwrap_or_default(),
        (None, true) => axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .unwrap_or_default(),
        (None, false) => Bytes::new(),
    };
    let params = params_of(&parts.uri, is_form, &body);
    let format = if params.get("f") == Some("json") {
        Format::Json
    } else {
        Format::Xml
    };
    let failed = |code: u64, message: String| {
        let mut body = envelope("failed");
        body.insert("error".into(), json!({"code": code, "message": message}));
        render(format, StatusCode::OK, body)
    };
    let similar = [
        "getSimilarSongs",
        "getSimilarSongs2",
        "getSonicSimilarTracks",
        "findSonicPath",
    ];
    let known = ["ping", "getOpenSubsonicExtensions"];
    // A call is one name: nothing that could reach another path of the upstream when forwarded.
    if call_path.is_empty()
        || !call_path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        || call_path.contains("..")
    {
        return failed(code::GENERIC.into(), "no such Subsonic call".into());
    }
    let mapping;
    let ids = match &upstream {
        Some(upstream) => {
            if call != "getOpenSubsonicExtensions" && !similar.contains(&call.as_str()) {
                return forward(upstream, &parts, &call_path, body, format).await;
            }
            if call != "getOpenSubsonicExtensions"
                && let Err((code, message)) =
                    upstream.verify_client(&params.0, &parts.headers).await
            {
                return failed(code, message);
            }
            mapping = upstream.mapping();
            Ids::Upstream(&mapping)
        }
        None => {
            let head_only = Request::from_parts(parts.clone(), axum::body::Body::empty());
            if call != "getOpenSubsonicExtensions" && !access.allows_subsonic(&head_only, &params.0)
            {
                return failed(
                    code::WRONG_CREDENTIALS.into(),
                    "wrong or missing token (send p=TOKEN, t+s, apiKey or a Bearer header)".into(),
                );
            }
            Ids::Catalog
        }
    };
    let result = match call.as_str() {
        "ping" => Ok(Map::new()),
        "getOpenSubsonicExtensions" => match &upstream {
            Some(upstream) => Ok(extensions_with(upstream).await),
            None => Ok(extensions()),
        },
        "getLicense" => Ok(license()),
        "getMusicFolders" => Ok(music_folders()),
        "getSimilarSongs" => similar_songs(&app, &params, "similarSongs", ids).await,
        "getSimilarSongs2" => similar_songs(&app, &params, "similarSongs2", ids).await,
        "getSonicSimilarTracks" => sonic_similar(&app, &params, ids).await,
        "findSonicPath" => sonic_path(&app, &params, ids).await,
        _ if !known.contains(&call.as_str()) => Err(fail(
            code::GENERIC,
            format!(
                "{call} is not implemented by musicrec (it only answers similar-songs calls; run it with --upstream to reach your music server)"
            ),
        )),
        _ => unreachable!("every known call is answered above"),
    };
    match result {
        Ok(payload) => {
            let mut body = envelope("ok");
            body.extend(payload);
            render(format, StatusCode::OK, body)
        }
        // A song musicrec could not match: the upstream's own similar songs, if it has any.
        Err(failure)
            if failure.code == code::NOT_FOUND
                && call.starts_with("getSimilarSongs")
                && upstream.is_some() =>
        {
            let upstream = upstream.as_ref().expect("checked");
            forward(upstream, &parts, &call_path, body, format).await
        }
        Err(failure) => failed(failure.code.into(), failure.message),
    }
}

/// Companion mode: `call_path` as the client sent it, forwarded to the upstream; a Subsonic
/// error envelope when the upstream cannot be reached.
async fn forward(
    upstream: &Upstream,
    parts: &axum::http::request::Parts,
    call_path: &str,
    body: Bytes,
    format: Format,
) -> Response {
    match upstream
        .forward(
            parts.method.clone(),
            call_path,
            parts.uri.query(),
            &parts.headers,
            body,
        )
        .await
    {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!("forwarding {call_path}: {e}");
            let mut body = envelope("failed");
            body.insert(
                "error".into(),
                json!({"code": code::GENERIC, "message": e.to_string()}),
            );
            render(format, StatusCode::OK, body)
        }
    }
}

/// The upstream's OpenSubsonic extensions with musicrec's added.
async fn extensions_with(upstream: &Upstream) -> Map<String, Value> {
    let mut ours = extensions();
    if let Ok(theirs) = upstream.call("getOpenSubsonicExtensions", &[]).await
        && let Some(Value::Array(mut merged)) = theirs.get("openSubsonicExtensions").cloned()
    {
        for extension in ours["openSubsonicExtensions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if !merged.iter().any(|e| e["name"] == extension["name"]) {
                merged.push(extension.clone());
            }
        }
        ours.insert("openSubsonicExtensions".into(), Value::Array(merged));
    }
    ours
}

/// `getLicense`: musicrec needs none.
fn license() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("license".into(), json!({"valid": true}));
    m
}

/// `getMusicFolders`: the catalog as one folder.
fn music_folders() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "musicFolders".into(),
        json!({"musicFolder": [{"id": 1, "name": "musicrec"}]}),
    );
    m
}

fn extensions() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "openSubsonicExtensions".into(),
        json!([
            {"name": "formPost", "versions": [1]},
            {"name": "sonicSimilarity", "versions": [1]},
        ]),
    );
    m
}

/// Whose song ids the client sends and gets: the catalog's, or in companion mode the upstream's
/// (translated through the [`Mapping`] of the last library read).
#[derive(Clone, Copy)]
enum Ids<'a> {
    Catalog,
    Upstream(&'a Mapping),
}

impl Ids<'_> {
    /// The catalog track of a song id the client sent.
    fn catalog_id(self, text: &str) -> Result<i64, Failure> {
        match self {
            Ids::Catalog => text
                .trim()
                .parse::<i64>()
                .map_err(|_| fail(code::NOT_FOUND, format!("song {text} not found"))),
            Ids::Upstream(mapping) => mapping.catalog_id(text).ok_or_else(|| {
                fail(
                    code::NOT_FOUND,
                    format!(
                        "song {text} of the upstream server is not one musicrec matched to its catalog (GET /api/upstream lists the unmatched songs)"
                    ),
                )
            }),
        }
    }

    /// How many neighbours to ask the index for, to answer `count` songs: in companion mode
    /// also as many as the catalog has tracks without an upstream song (they are left out).
    fn fetch_count(self, count: usize, index: &LoadedIndex) -> usize {
        match self {
            Ids::Catalog => count,
            Ids::Upstream(mapping) => {
                let unmapped = index.index.len().saturating_sub(mapping.matched());
                (count + unmapped).min(index.index.len().max(count))
            }
        }
    }
}

fn track_id(params: &Params, name: &str, ids: Ids<'_>) -> Result<i64, Failure> {
    let text = params.get(name).ok_or_else(|| {
        fail(
            code::MISSING_PARAMETER,
            format!("required parameter {name} is missing"),
        )
    })?;
    ids.catalog_id(text)
}

fn count(params: &Params, default: usize) -> Result<usize, Failure> {
    match params.get("count") {
        None => Ok(default),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
            _ => Err(fail(
                code::GENERIC,
                format!("count = {text}: must be between 1 and {MAX_COUNT}"),
            )),
        },
    }
}

fn require_index(app: &AppState) -> Result<std::sync::Arc<LoadedIndex>, Failure> {
    app.index()
        .filter(|i| !i.index.is_empty())
        .ok_or_else(|| fail(code::NOT_FOUND, "the catalog has no embedded tracks yet"))
}

fn require_embedded(index: &LoadedIndex, id: i64) -> Result<(), Failure> {
    index
        .row_of(TrackId(id))
        .map(|_| ())
        .ok_or_else(|| fail(code::NOT_FOUND, format!("song {id} not found")))
}

/// The folded form of an artist name that artist ids encode.
fn artist_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// `artistId` of an artist: `ar-` and the hex of its folded name. musicrec keeps no artist
/// table, so the id is the name itself, reversibly: any client that saw it can send it back.
fn artist_id(name: &str) -> String {
    format!("ar-{}", hex::encode(artist_key(name)))
}

/// The folded artist name an `ar-` id stands for.
fn artist_key_of_id(id: &str) -> Option<String> {
    let bytes = hex::decode(id.strip_prefix("ar-")?).ok()?;
    String::from_utf8(bytes).ok()
}

/// Most seed songs an artist id expands to.
const ARTIST_SEEDS: usize = 5;

/// Seeds of `getSimilarSongs{,2}`: the songs (up to [`ARTIST_SEEDS`], lowest ids first) of an
/// artist id, or one embedded song id.
fn similar_seeds(params: &Params, index: &LoadedIndex, ids: Ids<'_>) -> Result<Vec<i64>, Failure> {
    let text = params.get("id").ok_or_else(|| {
        fail(
            code::MISSING_PARAMETER,
            "required parameter id is missing".to_string(),
        )
    })?;
    if let Ids::Upstream(mapping) = ids {
        // An upstream song id, else an upstream artist id (its matched songs seed the mix).
        if let Ok(id) = ids.catalog_id(text) {
            require_embedded(index, id)?;
            return Ok(vec![id]);
        }
        let seeds: Vec<i64> = mapping
            .artist_tracks(text)
            .iter()
            .copied()
            .filter(|&id| index.row_of(TrackId(id)).is_some())
            .take(ARTIST_SEEDS)
            .collect();
        if seeds.is_empty() {
            return Err(ids.catalog_id(text).unwrap_err());
        }
        return Ok(seeds);
    }
    if text.trim().starts_with("ar-") {
        let key = artist_key_of_id(text.trim())
            .ok_or_else(|| fail(code::NOT_FOUND, format!("artist {text} not found")))?;
        let seeds: Vec<i64> = index
            .set
            .tracks
            .iter()
            .filter(|t| t.artist.as_deref().is_some_and(|a| artist_key(a) == key))
            .take(ARTIST_SEEDS)
            .map(|t| t.id.0)
            .collect();
        if seeds.is_empty() {
            return Err(fail(code::NOT_FOUND, format!("artist {text} not found")));
        }
        return Ok(seeds);
    }
    let id = track_id(params, "id", ids)?;
    require_embedded(index, id)?;
    Ok(vec![id])
}

/// `(catalog id, Child)` for these track ids, in order: musicrec's own, with genres from the
/// index, or in companion mode the upstream's `Child` as the upstream gave it (tracks without an
/// upstream song are left out).
async fn children(
    app: &AppState,
    index: &LoadedIndex,
    ids: Vec<i64>,
    space: Ids<'_>,
) -> Result<Vec<(i64, Map<String, Value>)>, Failure> {
    if let Ids::Upstream(mapping) = space {
        return Ok(ids
            .into_iter()
            .filter_map(|id| Some((id, mapping.child_of(id)?.clone())))
            .collect());
    }
    let tracks: Vec<Option<Track>> = app
        .with_store(move |store| {
            ids.iter()
                .map(|&id| Ok(store.track(TrackId(id))?))
                .collect::<Result<Vec<_>, crate::error::ApiError>>()
        })
        .await
        .map_err(|e| fail(code::GENERIC, e.message))?;
    Ok(tracks
        .into_iter()
        .flatten()
        .map(|t| (t.id.0, child(&t, index)))
        .collect())
}

fn child(track: &Track, index: &LoadedIndex) -> Map<String, Value> {
    let name = track
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert("id".into(), json!(track.id.0.to_string()));
    m.insert("isDir".into(), json!(false));
    m.insert(
        "title".into(),
        json!(track.tags.title.clone().unwrap_or_else(|| name.clone())),
    );
    if let Some(album) = &track.tags.album {
        m.insert("album".into(), json!(album));
    }
    if let Some(artist) = &track.tags.artist {
        m.insert("artist".into(), json!(artist));
        m.insert("artistId".into(), json!(artist_id(artist)));
    }
    if let Some((genre, _)) = index.row_of(track.id).and_then(|r| index.top_genre(r)) {
        m.insert("genre".into(), json!(genre));
    }
    if let Some(year) = track.tags.year {
        m.insert("year".into(), json!(year));
    }
    if let Some(secs) = track.duration_secs {
        m.insert("duration".into(), json!(secs.round() as i64));
    }
    m.insert("size".into(), json!(track.size_bytes));
    if let Some(ext) = track.path.extension() {
        m.insert(
            "suffix".into(),
            json!(ext.to_string_lossy().to_ascii_lowercase()),
        );
    }
    m.insert(
        "contentType".into(),
        json!(
            mime_guess::from_path(&track.path)
                .first_or_octet_stream()
                .essence_str()
        ),
    );
    m.insert("path".into(), json!(name));
    m.insert("type".into(), json!("music"));
    m.insert("isVideo".into(), json!(false));
    m
}

async fn similar_songs(
    app: &AppState,
    params: &Params,
    key: &str,
    ids: Ids<'_>,
) -> Result<Map<String, Value>, Failure> {
    let count = count(params, 50)?;
    let index = require_index(app)?;
    let seeds = similar_seeds(params, &index, ids)?;
    let work = index.clone();
    let k = ids.fetch_count(count, &index);
    let found = app
        .compute(move || musicrec_app::recommend(&work, &RecommendQuery::new(seeds, k), None))
        .await
        .map_err(|e| fail(code::GENERIC, e.message))?
        .map_err(|e| fail(code::GENERIC, e.one_line()))?;
    let found = found.tracks.iter().map(|h| h.id).collect();
    let songs: Vec<Map<String, Value>> = children(app, &index, found, ids)
        .await?
        .into_iter()
        .take(count)
        .map(|(_, child)| child)
        .collect();
    let mut m = Map::new();
    m.insert(key.into(), json!({ "song": songs }));
    Ok(m)
}

/// The normalized cosine distance (1 - cosine) / 2: 0 for the same direction, 1 for the
/// opposite one.
fn distance(cosine: f32) -> f64 {
    f64::from(((1.0 - cosine) / 2.0).clamp(0.0, 1.0))
}

/// `{key: {sonicMatch: [Child + distance]}}`, in the order of `songs` (catalog id, Child).
fn sonic_matches(
    key: &str,
    songs: Vec<(i64, Map<String, Value>)>,
    distances: &[(i64, f64)],
) -> Map<String, Value> {
    let matches: Vec<Value> = songs
        .into_iter()
        .filter_map(|(id, mut entry)| {
            let d = distances.iter().find(|(i, _)| *i == id)?.1;
            entry.insert("distance".into(), json!(d));
            Some(Value::Object(entry))
        })
        .collect();
    let mut m = Map::new();
    m.insert(key.into(), json!({ "sonicMatch": matches }));
    m
}

async fn sonic_similar(
    app: &AppState,
    params: &Params,
    ids: Ids<'_>,
) -> Result<Map<String, Value>, Failure> {
    let id = track_id(params, "id", ids)?;
    let count = count(params, 10)?;
    let index = require_index(app)?;
    require_embedded(&index, id)?;
    let work = index.clone();
    let k = ids.fetch_count(count, &index);
    let found = app
        .compute(move || musicrec_app::recommend(&work, &RecommendQuery::new(vec![id], k), None))
        .await
        .map_err(|e| fail(code::GENERIC, e.message))?
        .map_err(|e| fail(code::GENERIC, e.one_line()))?;
    let scores: Vec<(i64, f64)> = found
        .tracks
        .iter()
        .map(|h| (h.id, distance(h.score)))
        .collect();
    let mut songs = children(app, &index, scores.iter().map(|s| s.0).collect(), ids).await?;
    songs.truncate(count);
    Ok(sonic_matches("sonicSimilarTracksResult", songs, &scores))
}

/// A path from the start song to the end song in which every song is nearer the end and farther
/// from the start than the one before (`EmbeddingIndex::path`); `distance` is from the start.
async fn sonic_path(
    app: &AppState,
    params: &Params,
    ids: Ids<'_>,
) -> Result<Map<String, Value>, Failure> {
    let start = track_id(params, "startSongId", ids)?;
    let end = track_id(params, "endSongId", ids)?;
    let count = count(params, 25)?.clamp(2, musicrec_recommend::MAX_PATH_LEN);
    let index = require_index(app)?;
    require_embedded(&index, start)?;
    require_embedded(&index, end)?;
    if start == end {
        return Err(fail(
            code::GENERIC,
            "startSongId and endSongId are the same song",
        ));
    }
    let work = index.clone();
    let path: Vec<(i64, f64)> = app
        .compute(move || work.index.path(start, end, count, &[]))
        .await
        .map_err(|e| fail(code::GENERIC, e.message))?
        .map_err(|e| fail(code::GENERIC, e.to_string()))?
        .steps
        .iter()
        .map(|s| (s.id, distance(s.similarity_to_start)))
        .collect();
    // In companion mode, steps without an upstream song are left out.
    let songs = children(app, &index, path.iter().map(|s| s.0).collect(), ids).await?;
    Ok(sonic_matches("findSonicPathResult", songs, &path))
}
