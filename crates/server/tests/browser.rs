//! The web page in a real browser: headless Chromium driven through chromedriver (WebDriver, with
//! the `fantoccini` client) against the server started in-process on a free port over a catalog
//! of real clips. It searches, picks seeds, recommends with both methods, plays a track until the
//! `<audio>` element reaches `canplay`, dislikes a recommendation and sees the list change, likes
//! one and sees the next list move towards it, hovers and clicks the map, and then takes part in
//! a blind listening experiment as a participant (study, name, seeds, the shuffled list, play,
//! like/dislike every item, "thank you", resume after a reload), checking in the catalog that
//! every answer was recorded.
//!
//! It also checks the rough edges of issue 17: full titles (every clip is tagged with a title
//! longer than the list column and an artist) on up to two lines with the artist, the map's seed
//! and recommendation marks and its zoom to the data, the listener's likes and dislikes listed
//! with their state and undone, a Sun `.au` track (converted to WAV by the server) reaching
//! `canplay`, the favicon, the page at 420 px wide with nothing off-screen, and a server with a
//! token: `?token=` taken out of the address bar, and without it one prompt instead of errors.
//!
//! Screenshots go to `$MUSICREC_ARTIFACTS_DIR/screenshots/` when that is set, else to
//! `test-artifacts/screenshots/` in the Cargo target folder (beside `$CARGO_TARGET_TMPDIR`); the
//! test prints the folder.
//!
//! WebDriver rather than raw CDP: chromedriver is the driver Debian packages with chromium
//! (`chromium-driver`), the test talks the W3C protocol any browser speaks, and fantoccini
//! waits for elements the way the page is used.

mod common;

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use musicrec_catalog::{CatalogStore, ExperimentStore, Rating, TrackId};
use musicrec_catalog_sqlite::SqliteStore;
use musicrec_server::Access;
use musicrec_testkit::data::{gtzan_mini, shared_data_with};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the browser is installed; under `CI=true` a missing one fails the test.
fn browser_available() -> bool {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{CHROMIUM} or {CHROMEDRIVER} missing under CI (apt packages chromium, chromium-driver)"
        );
    }
    eprintln!(
        "skipping: {CHROMIUM} / {CHROMEDRIVER} not installed (apt-get install chromium chromium-driver)"
    );
    false
}

async fn start_driver() -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (driver, port)
}

async fn connect(port: u16, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--mute-audio", "--window-size=1500,1000",
                "--autoplay-policy=no-user-gesture-required",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session")
}

/// Polls the JavaScript expression `condition` until it is true.
async fn wait_for(client: &Client, what: &str, condition: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let value = client
            .execute(&format!("return Boolean({condition});"), vec![])
            .await
            .unwrap();
        if value == Value::Bool(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what} ({condition})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ids(client: &Client, list: &str) -> Vec<i64> {
    let value = client
        .execute(
            &format!(
                "return [...document.querySelectorAll('#{list} li[data-id]')].map(li => Number(li.dataset.id));"
            ),
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(value).unwrap()
}

/// Where screenshots are kept: `$MUSICREC_ARTIFACTS_DIR/screenshots`, else
/// `<cargo target dir>/test-artifacts/screenshots` (`$CARGO_TARGET_TMPDIR` is `<target>/tmp`).
fn screenshot_dir() -> PathBuf {
    match std::env::var_os("MUSICREC_ARTIFACTS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("screenshots"),
        _ => {
            let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
            tmp.parent()
                .unwrap_or(tmp)
                .join("test-artifacts/screenshots")
        }
    }
}

/// Clicks the element `css` selects. The page re-renders lists when answers arrive, so an element
/// found a moment ago can be replaced before the click lands: then it is looked up again.
async fn click(client: &Client, css: &str) {
    let mut attempts = 0;
    loop {
        // Out from under the fixed player bar.
        client
            .execute(
                "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView({block: 'center'});",
                vec![json!(css)],
            )
            .await
            .unwrap();
        let element = client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        match element.click().await {
            Ok(()) => return,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                    && attempts < 20 =>
            {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("clicking {css}: {e}"),
        }
    }
}

async fn search_for(client: &Client, text: &str, expected: usize) {
    let input = client.find(Locator::Css("#search")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
    click(client, "#search-form button").await;
    wait_for(
        client,
        &format!("{text} results"),
        &format!(
            "document.querySelectorAll('#results li[data-id]').length === {expected} && [...document.querySelectorAll('#results .title')].every(e => e.textContent.includes({}))",
            json!(text)
        ),
    )
    .await;
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

async fn screenshot(client: &Client, dir: &Path, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// The title every clip is tagged with: its file stem (so that searches by genre still match)
/// and words enough to be cut by a list that shows ten characters.
fn long_title(stem: &str) -> String {
    format!("{stem}: the long road home")
}

fn artist_of(stem: &str) -> String {
    format!("The {} Players", stem.split('.').next().unwrap_or(stem))
}

/// Writes a title and an artist (RIFF INFO) into every clip under `music`.
fn tag_every_clip(music: &Path) {
    use lofty::config::WriteOptions;
    use lofty::tag::{Accessor, Tag, TagExt, TagType};
    for genre in std::fs::read_dir(music).unwrap() {
        for clip in std::fs::read_dir(genre.unwrap().path()).unwrap() {
            let path = clip.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let mut tag = Tag::new(TagType::RiffInfo);
            tag.set_title(long_title(&stem));
            tag.set_artist(artist_of(&stem));
            tag.save_to_path(&path, WriteOptions::default())
                .unwrap_or_else(|e| panic!("tagging {}: {e}", path.display()));
        }
    }
}

/// Every title in list `list` is shown whole (not clipped, at most two lines) with its artist
/// below it; returns the titles.
async fn assert_full_titles(client: &Client, list: &str) -> Vec<String> {
    let shown = client
        .execute(
            &format!(
                r#"return [...document.querySelectorAll('#{list} li[data-id]')].map(li => {{
                     const t = li.querySelector('.title');
                     const lines = t.clientHeight / parseFloat(getComputedStyle(t).lineHeight);
                     const artist = li.querySelector('.sub');
                     return [t.textContent, t.scrollHeight <= t.clientHeight + 1 && t.scrollWidth <= t.clientWidth + 1,
                             Math.round(lines * 10) / 10, artist ? artist.textContent : null, t.title];
                   }});"#
            ),
            vec![],
        )
        .await
        .unwrap();
    let shown: Vec<(String, bool, f64, Option<String>, String)> =
        serde_json::from_value(shown).unwrap();
    assert!(!shown.is_empty(), "{list} is empty");
    for (title, whole, lines, artist, hover) in &shown {
        if title == "sun-clip.au" {
            // The untagged .au clip: its file name, no artist.
            assert!(
                *whole && artist.is_none() && hover == title,
                "{list}: {shown:?}"
            );
            continue;
        }
        let stem = title.split(':').next().unwrap();
        assert_eq!(title, &long_title(stem), "{list}: {shown:?}");
        assert!(
            *whole && *lines <= 2.05,
            "{list}: '{title}' clipped or on {lines} lines"
        );
        assert_eq!(artist.as_deref(), Some(artist_of(stem).as_str()), "{list}");
        assert_eq!(hover, &format!("{} – {title}", artist_of(stem)), "{list}");
    }
    shown.into_iter().map(|s| s.0).collect()
}

/// Elements that stick out of the viewport's width (none should, on a narrow screen).
async fn off_screen(client: &Client) -> Value {
    client
        .execute(
            r#"document.getElementById('tooltip').hidden = true; // a hover left over from the map test
               const width = window.innerWidth;
               const out = [...document.querySelectorAll('body *')].filter(e => {
                 const r = e.getBoundingClientRect();
                 return r.width > 0 && r.height > 0 && (r.right > width + 0.5 || r.left < -0.5)
                   && e.id !== 'tooltip';
               }).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
               return [width, document.documentElement.scrollWidth, out.slice(0, 10)];"#,
            vec![],
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_seed_recommend_play_dislike_and_map_in_chromium() {
    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    if !browser_available() {
        return;
    }
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).unwrap();
    eprintln!("screenshots go to {}", shots.display());

    let Some(shared) = shared_data_with(&["formats/jazz.00000.au"]) else {
        return;
    };
    // Every clip gets a title longer than a list column and an artist; a Sun .au clip joins.
    let lib = common::Library::new_with(&gtzan, 3, |music| {
        tag_every_clip(music);
        std::fs::create_dir_all(music.join("sun")).unwrap();
        std::fs::copy(
            shared.join("formats/jazz.00000.au"),
            music.join("sun/sun-clip.au"),
        )
        .unwrap();
    });
    // A study for the participant, and a simulated one the page must not offer.
    let study = {
        let mut store = SqliteStore::open(&lib.db).unwrap();
        common::new_study(&mut store, "virtual", true);
        common::new_study(&mut store, "blind-test", false)
    };
    let app = musicrec_server::app(lib.state(), Access::open());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (_driver, port) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = connect(port, profile.path()).await;

    client.goto(&format!("{base}/")).await.unwrap();
    wait_for(
        &client,
        "stats",
        "document.getElementById('stats').textContent.includes('31 tracks')",
    )
    .await;
    wait_for(
        &client,
        "library",
        "document.querySelectorAll('#results li[data-id]').length === 25",
    )
    .await;

    // A listener name (kept in localStorage), then a search.
    client
        .find(Locator::Css("#user"))
        .await
        .unwrap()
        .send_keys("tester\u{e004}")
        .await
        .unwrap();
    client
        .find(Locator::Css("#search"))
        .await
        .unwrap()
        .send_keys("blues")
        .await
        .unwrap();
    client
        .find(Locator::Css("#search-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, "blues results", "document.querySelectorAll('#results li[data-id]').length === 3 && [...document.querySelectorAll('#results .title')].every(e => e.textContent.includes('blues'))").await;
    let stored = client
        .execute("return localStorage.getItem('musicrec-user');", vec![])
        .await
        .unwrap();
    assert_eq!(stored, json!("tester"));

    // Two seeds.
    for _ in 0..2 {
        client
            .find(Locator::Css("#results .add-seed:not([disabled])"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_for(
        &client,
        "two seeds",
        "document.querySelectorAll('#seeds li[data-id]').length === 2",
    )
    .await;
    let seeds = ids(&client, "seeds").await;
    screenshot(&client, &shots, "1-seeds").await;

    // Both methods side by side.
    client
        .find(Locator::Css("#recommend"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, "recommendations", "document.querySelectorAll('#recs-similarity li[data-id]').length === 8 && document.querySelectorAll('#recs-genre li[data-id]').length === 8").await;
    let before = ids(&client, "recs-similarity").await;
    assert!(
        before.iter().all(|id| !seeds.contains(id)),
        "{before:?} {seeds:?}"
    );
    let scores = client
        .execute("return [...document.querySelectorAll('#recs-similarity .score')].map(e => Number(e.textContent));", vec![])
        .await
        .unwrap();
    let scores: Vec<f64> = serde_json::from_value(scores).unwrap();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let genres = client
        .execute(
            "return document.querySelectorAll('#recs-genre .genre').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(genres, json!(8));
    screenshot(&client, &shots, "2-recommendations").await;

    // Whole titles (two lines at most) with the artist, in both lists.
    let titles = assert_full_titles(&client, "recs-similarity").await;
    assert_full_titles(&client, "recs-genre").await;
    assert!(
        titles
            .iter()
            .all(|t| t == "sun-clip.au" || t.chars().count() >= 25),
        "{titles:?}"
    );

    // The map marks the seeds and the recommendations shown, and its points fill the canvas.
    wait_for(
        &client,
        "map marks",
        "state.mapMarks && state.mapMarks.some(m => m.kind === 'recommended')",
    )
    .await;
    let marks = client
        .execute(
            r#"const canvas = document.getElementById('map');
               const ctx = canvas.getContext('2d');
               const layout = mapLayout();
               const xs = state.map.points.map(p => layout.x(p)), ys = state.map.points.map(p => layout.y(p));
               const seeds = state.mapMarks.filter(m => m.kind === 'seed');
               const centre = seeds.map(m => [...ctx.getImageData(Math.round(m.x), Math.round(m.y), 1, 1).data]);
               const recIds = [...document.querySelectorAll('.recs li[data-id]')].map(li => Number(li.dataset.id));
               return { seeds: seeds.map(m => m.id),
                        recommended: state.mapMarks.filter(m => m.kind === 'recommended').map(m => m.id),
                        shown: [...new Set(recIds)],
                        centre,
                        spread: [(Math.max(...xs) - Math.min(...xs)) / canvas.width,
                                 (Math.max(...ys) - Math.min(...ys)) / canvas.height] };"#,
            vec![],
        )
        .await
        .unwrap();
    let mut marked_seeds: Vec<i64> = serde_json::from_value(marks["seeds"].clone()).unwrap();
    marked_seeds.sort_unstable();
    let mut sorted_seeds = seeds.clone();
    sorted_seeds.sort_unstable();
    assert_eq!(marked_seeds, sorted_seeds, "{marks}");
    let mut marked: Vec<i64> = serde_json::from_value(marks["recommended"].clone()).unwrap();
    let mut shown: Vec<i64> = serde_json::from_value(marks["shown"].clone()).unwrap();
    marked.sort_unstable();
    shown.sort_unstable();
    assert_eq!(marked, shown, "{marks}");
    for pixel in marks["centre"].as_array().unwrap() {
        assert_eq!(
            pixel,
            &json!([255, 255, 255, 255]),
            "a seed is a white mark: {marks}"
        );
    }
    for axis in marks["spread"].as_array().unwrap() {
        assert!(
            axis.as_f64().unwrap() > 0.85,
            "the points do not fill the map: {marks}"
        );
    }

    // Play the first recommendation until the audio element can play.
    client
        .execute("window.__canplay = false; document.getElementById('player').addEventListener('canplay', () => { window.__canplay = true; });", vec![])
        .await
        .unwrap();
    client
        .find(Locator::Css("#recs-similarity li .play"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, "canplay", "window.__canplay === true").await;
    let src = client
        .execute(
            "return document.getElementById('player').currentSrc;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        src.as_str()
            .unwrap()
            .ends_with(&format!("/api/tracks/{}/audio", before[0])),
        "{src}"
    );
    screenshot(&client, &shots, "3-playing").await;

    // Dislike the top recommendation: it is gone from both lists and the list changes.
    client
        .find(Locator::Css("#recs-similarity li .dislike"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let gone = before[0];
    wait_for(&client, "list without the disliked track", &format!("document.querySelectorAll('#recs-similarity li[data-id]').length === 8 && !document.querySelector('#recs-similarity li[data-id=\"{gone}\"]') && !document.querySelector('#recs-genre li[data-id=\"{gone}\"]')")).await;
    let after = ids(&client, "recs-similarity").await;
    assert_ne!(before, after);
    wait_for(
        &client,
        "feedback note",
        "document.getElementById('message').textContent.includes('1 dislikes')",
    )
    .await;
    screenshot(&client, &shots, "4-after-dislike").await;

    // Like the last recommendation: it leaves the list, and the next list moves towards it (its
    // tracks are, on average, more similar to the liked one than those of the list before).
    let before_like = ids(&client, "recs-similarity").await;
    let liked = *before_like.last().unwrap();
    click(
        &client,
        &format!("#recs-similarity li[data-id=\"{liked}\"] .like"),
    )
    .await;
    wait_for(&client, "list after the like", &format!("document.getElementById('message').textContent.includes('1 likes and 1 dislikes') && document.querySelectorAll('#recs-similarity li[data-id]').length === 8 && !document.querySelector('#recs-similarity li[data-id=\"{liked}\"]')")).await;
    let after_like = ids(&client, "recs-similarity").await;
    assert_ne!(before_like, after_like);
    assert!(!after_like.contains(&gone), "{after_like:?}");
    let set = SqliteStore::open(&lib.db)
        .unwrap()
        .load_embeddings(common::MODEL)
        .unwrap();
    let embedding = |id: i64| set.embedding(set.row_of(TrackId(id)).unwrap());
    let closeness = |list: &[i64]| {
        let others: Vec<i64> = list.iter().copied().filter(|&t| t != liked).collect();
        others
            .iter()
            .map(|&t| cosine(embedding(t), embedding(liked)))
            .sum::<f64>()
            / others.len() as f64
    };
    let (was, now) = (closeness(&before_like), closeness(&after_like));
    eprintln!("mean cosine to the liked track {liked}: {was:.6} before, {now:.6} after");
    assert!(
        now > was,
        "after liking {liked} the list is not closer to it: {was} -> {now} ({before_like:?} -> {after_like:?})"
    );
    let liked_button_on = client
        .execute(
            &format!(
                "return document.querySelectorAll('.recs li[data-id=\"{liked}\"] .like.on').length;"
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(liked_button_on, json!(0), "the liked track is still listed");
    screenshot(&client, &shots, "5-after-like").await;

    // Both ratings stay listed with their state; the dislike is undone.
    wait_for(
        &client,
        "the ratings list",
        &format!("document.querySelector('#ratings li.liked[data-id=\"{liked}\"] .state') && document.querySelector('#ratings li.disliked[data-id=\"{gone}\"] .state')"),
    )
    .await;
    let states = client
        .execute(
            "return [...document.querySelectorAll('#ratings li[data-id]')].map(li => [Number(li.dataset.id), li.querySelector('.state').textContent]);",
            vec![],
        )
        .await
        .unwrap();
    let mut states: Vec<(i64, String)> = serde_json::from_value(states).unwrap();
    states.sort();
    let mut expected = vec![
        (liked, "♥ liked".to_string()),
        (gone, "⊘ disliked".to_string()),
    ];
    expected.sort();
    assert_eq!(states, expected);
    assert_full_titles(&client, "ratings").await;
    screenshot(&client, &shots, "5b-ratings").await;
    click(&client, &format!("#ratings li[data-id=\"{gone}\"] .undo")).await;
    wait_for(
        &client,
        "the dislike undone",
        &format!("!document.querySelector('#ratings li[data-id=\"{gone}\"]') && document.getElementById('message').textContent.includes('1 likes and 0 dislikes')"),
    )
    .await;
    let tester = SqliteStore::open(&lib.db)
        .unwrap()
        .user_by_name("tester")
        .unwrap()
        .unwrap();
    let kept: Vec<(i64, Rating)> = SqliteStore::open(&lib.db)
        .unwrap()
        .feedback(tester.id)
        .unwrap()
        .iter()
        .map(|f| (f.track.0, f.rating))
        .collect();
    assert_eq!(kept, [(liked, Rating::Like)]);
    // A reload lists the remaining like again (from the server).
    client.refresh().await.unwrap();
    wait_for(
        &client,
        "ratings after a reload",
        &format!("document.querySelectorAll('#ratings li[data-id]').length === 1 && document.querySelector('#ratings li.liked[data-id=\"{liked}\"]')"),
    )
    .await;
    screenshot(&client, &shots, "5c-undone").await;
    // The seeds and lists again, for what follows.
    search_for(&client, "blues", 3).await;
    for id in &seeds {
        click(&client, &format!("#results li[data-id=\"{id}\"] .add-seed")).await;
    }
    wait_for(
        &client,
        "seeds again",
        "document.querySelectorAll('#seeds li[data-id]').length === 2",
    )
    .await;
    click(&client, "#recommend").await;
    wait_for(
        &client,
        "recommendations again",
        "document.querySelectorAll('#recs-similarity li[data-id]').length === 8",
    )
    .await;

    // The map: 30 points in 10 genres; hovering a point shows its track, clicking plays it.
    wait_for(
        &client,
        "map legend",
        "document.querySelectorAll('#legend li').length === 12",
    )
    .await;
    let label = client
        .execute(
            r#"const canvas = document.getElementById('map');
               const p = state.map.points[0];
               const layout = mapLayout();
               const rect = canvas.getBoundingClientRect();
               const at = { clientX: rect.left + layout.x(p) * rect.width / canvas.width,
                            clientY: rect.top + layout.y(p) * rect.height / canvas.height, bubbles: true };
               canvas.dispatchEvent(new MouseEvent('mousemove', at));
               const tip = document.getElementById('tooltip');
               const shown = tip.hidden ? null : tip.textContent;
               canvas.dispatchEvent(new MouseEvent('click', at));
               return [shown, p.label];"#,
            vec![],
        )
        .await
        .unwrap();
    let shown = label[0].as_str().expect("tooltip shown");
    let point = label[1].as_str().unwrap();
    assert!(shown.starts_with(point), "{shown} / {point}");
    wait_for(
        &client,
        "map click plays",
        &format!(
            "document.getElementById('now-playing').textContent.includes({})",
            json!(point)
        ),
    )
    .await;
    screenshot(&client, &shots, "6-map").await;

    // A Sun .au track plays: the server converts it to WAV.
    search_for(&client, "sun-clip", 1).await;
    client
        .execute("window.__canplay = false; document.getElementById('player').addEventListener('canplay', () => { window.__canplay = true; });", vec![])
        .await
        .unwrap();
    click(&client, "#results li .play").await;
    wait_for(&client, ".au canplay", "window.__canplay === true").await;
    let played = client
        .execute(
            "const p = document.getElementById('player'); return [p.currentSrc, p.duration];",
            vec![],
        )
        .await
        .unwrap();
    let au_id = ids(&client, "results").await[0];
    assert!(
        played[0]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/tracks/{au_id}/audio")),
        "{played}"
    );
    let duration = played[1].as_f64().unwrap();
    assert!((duration - 30.0).abs() < 0.1, "{played}");
    screenshot(&client, &shots, "6b-au-playing").await;

    // The favicon the page links to, also at /favicon.ico.
    let icons = client
        .execute_async(
            r#"const done = arguments[0];
               const href = document.querySelector('link[rel=icon]').href;
               Promise.all([href, '/favicon.ico'].map(u => fetch(u).then(r => r.headers.get('content-type') + ' ' + r.status)))
                 .then(done);"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(icons, json!(["image/svg+xml 200", "image/svg+xml 200"]));

    // A narrow screen: the header and panels reflow, nothing sticks out sideways.
    client.set_window_size(420, 900).await.unwrap();
    wait_for(&client, "a narrow window", "window.innerWidth <= 440").await;
    let (width, scroll, out) = {
        let v = off_screen(&client).await;
        (v[0].as_f64().unwrap(), v[1].as_f64().unwrap(), v[2].clone())
    };
    assert!(
        scroll <= width && out == json!([]),
        "{width} {scroll} {out}"
    );
    screenshot(&client, &shots, "10-narrow-top").await;
    client
        .execute(
            "document.getElementById('recs-similarity').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    assert_full_titles(&client, "recs-similarity").await;
    screenshot(&client, &shots, "10-narrow-recommendations").await;
    client
        .execute("document.getElementById('map').scrollIntoView();", vec![])
        .await
        .unwrap();
    screenshot(&client, &shots, "10-narrow-map").await;
    client.set_window_size(1500, 1000).await.unwrap();
    wait_for(&client, "a wide window again", "window.innerWidth > 1000").await;

    // ---- the blind listening experiment, as a participant ----
    click(&client, "#mode-experiment").await;
    wait_for(
        &client,
        "the study list (without the simulated study)",
        "document.querySelectorAll('#exp-study option').length === 1 && document.getElementById('exp-study').selectedOptions[0].textContent === 'blind-test'",
    )
    .await;
    wait_for(
        &client,
        "recommendations and map out of sight",
        "document.querySelector('.seeds-panel').hidden && document.querySelector('.map-panel').hidden && !document.getElementById('experiment-panel').hidden",
    )
    .await;
    client
        .find(Locator::Css("#exp-participant"))
        .await
        .unwrap()
        .send_keys("p01")
        .await
        .unwrap();
    search_for(&client, "jazz", 3).await;
    for n in 1..=2 {
        click(&client, "#results .add-seed:not([disabled])").await;
        wait_for(
            &client,
            "participant seed",
            &format!("document.querySelectorAll('#exp-seeds li[data-id]').length === {n}"),
        )
        .await;
    }
    let exp_seeds = ids(&client, "exp-seeds").await;
    // The recommender's own seeds are untouched.
    assert_eq!(ids(&client, "seeds").await, seeds);
    screenshot(&client, &shots, "7-experiment-setup").await;
    wait_for(
        &client,
        "start enabled",
        "!document.getElementById('exp-start').disabled",
    )
    .await;
    click(&client, "#exp-start").await;
    wait_for(
        &client,
        "the participant's list",
        "document.querySelectorAll('#exp-items li[data-id]').length > 0 && document.querySelector('.library').hidden",
    )
    .await;
    let items = ids(&client, "exp-items").await;
    let store = SqliteStore::open(&lib.db).unwrap();
    let stored = store.session_of(study.id, "p01").unwrap().unwrap();
    assert_eq!(
        stored.seeds.iter().map(|t| t.0).collect::<Vec<_>>(),
        exp_seeds
    );
    // Shown in the stored (shuffled) order, decoys among them, and nothing on the page that
    // tells an item's origin.
    assert_eq!(
        stored.items.iter().map(|i| i.track.0).collect::<Vec<_>>(),
        items
    );
    assert!(stored.items.iter().any(|i| i.is_decoy()));
    let leaks = client
        .execute(
            r#"const panel = document.getElementById('experiment-panel');
               const text = panel.textContent.toLowerCase();
               return [panel.querySelectorAll('.genre, .score').length,
                       ['decoy', 'similarity', 'origin', 'method'].filter(w => text.includes(w))];"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(leaks, json!([0, []]));
    screenshot(&client, &shots, "8-experiment-list").await;

    // Play the first item, then like every other item and dislike the rest.
    client
        .execute("window.__canplay = false;", vec![])
        .await
        .unwrap();
    click(&client, "#exp-items li .play").await;
    wait_for(
        &client,
        "experiment item canplay",
        "window.__canplay === true",
    )
    .await;
    let src = client
        .execute(
            "return document.getElementById('player').currentSrc;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        src.as_str()
            .unwrap()
            .ends_with(&format!("/api/tracks/{}/audio", items[0])),
        "{src}"
    );
    let n = items.len();
    for (i, id) in items.iter().enumerate() {
        let thanks_hidden = client
            .execute(
                "return document.getElementById('exp-thanks').hidden;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(thanks_hidden, json!(true), "thank-you before item {i}");
        let button = if i % 2 == 0 { "like" } else { "dislike" };
        click(
            &client,
            &format!("#exp-items li[data-id=\"{id}\"] .{button}"),
        )
        .await;
        wait_for(
            &client,
            "progress",
            &format!(
                "document.getElementById('exp-progress').textContent.startsWith('{} of {n} songs rated') && document.querySelector('#exp-items li[data-id=\"{id}\"] .{button}.on')",
                i + 1
            ),
        )
        .await;
    }
    wait_for(
        &client,
        "thank you",
        "!document.getElementById('exp-thanks').hidden && document.getElementById('exp-thanks').textContent.includes('Thank you')",
    )
    .await;
    screenshot(&client, &shots, "9-experiment-thanks").await;

    // The catalog holds one answer per item, as clicked.
    let recorded: Vec<(i64, u32, Rating)> = store
        .responses(study.id)
        .unwrap()
        .into_iter()
        .filter(|r| r.session == stored.id)
        .map(|r| (r.track.0, r.round, r.rating))
        .collect();
    let mut expected: Vec<(i64, u32, Rating)> = items
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            (
                t,
                1,
                if i % 2 == 0 {
                    Rating::Like
                } else {
                    Rating::Dislike
                },
            )
        })
        .collect();
    expected.sort_unstable_by_key(|r| r.0);
    assert_eq!(recorded, expected);

    // A reload resumes the session where it was.
    client.refresh().await.unwrap();
    wait_for(
        &client,
        "page again",
        "document.getElementById('stats').textContent.includes('31 tracks')",
    )
    .await;
    click(&client, "#mode-experiment").await;
    wait_for(
        &client,
        "resumed session",
        &format!(
            "document.querySelectorAll('#exp-items li[data-id]').length === {n} && document.querySelectorAll('#exp-items .like.on').length === {} && !document.getElementById('exp-thanks').hidden",
            n.div_ceil(2)
        ),
    )
    .await;
    assert_eq!(ids(&client, "exp-items").await, items);

    // ---- a server with a token ----
    const TOKEN: &str = "browser-test-token-0123";
    let guarded = musicrec_server::app(lib.state(), Access::with_token(TOKEN).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let guarded_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(musicrec_server::listen::serve(
        listener,
        guarded,
        Duration::from_secs(20),
        std::future::pending(),
    ));
    let loaded = "document.getElementById('stats').textContent.includes('31 tracks') && document.querySelectorAll('#results li[data-id]').length === 25 && document.querySelectorAll('#legend li').length === 12 && document.getElementById('token-dialog').hidden";
    // Given in the address: used, kept for the tab, and taken out of the address bar.
    client
        .goto(&format!("{guarded_base}/?token={TOKEN}&view=1"))
        .await
        .unwrap();
    wait_for(&client, "the page with the token from the address", loaded).await;
    let kept = client
        .execute(
            "return [location.search, sessionStorage.getItem('musicrec-token')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, json!(["?view=1", TOKEN]));
    // Without it: one prompt, no error messages; a wrong token is refused, the right one opens.
    client
        .execute("sessionStorage.clear();", vec![])
        .await
        .unwrap();
    client.goto(&format!("{guarded_base}/")).await.unwrap();
    wait_for(
        &client,
        "the token prompt",
        "!document.getElementById('token-dialog').hidden && document.getElementById('token-error').hidden",
    )
    .await;
    let quiet = "!/unauthorized|needs its token|unavailable|failed/i.test(document.querySelector('main').innerText + document.getElementById('stats').innerText)";
    wait_for(&client, "no error behind the prompt", quiet).await;
    screenshot(&client, &shots, "11-token-prompt").await;
    let input = client.find(Locator::Css("#token-input")).await.unwrap();
    input.send_keys("wrong-token-wrong-token").await.unwrap();
    click(&client, "#token-form button[type=submit]").await;
    wait_for(
        &client,
        "the wrong token refused",
        "!document.getElementById('token-dialog').hidden && !document.getElementById('token-error').hidden",
    )
    .await;
    screenshot(&client, &shots, "11b-token-refused").await;
    let input = client.find(Locator::Css("#token-input")).await.unwrap();
    input.send_keys(TOKEN).await.unwrap();
    click(&client, "#token-form button[type=submit]").await;
    wait_for(&client, "the page after the token", loaded).await;
    wait_for(&client, "no error after the token", quiet).await;
    screenshot(&client, &shots, "12-token-accepted").await;

    client.close().await.unwrap();
    eprintln!("screenshots in {}", shots.display());
}

/// Companion mode in the page: in front of a real Supysonic, the page offers to save a list of
/// recommendations as a playlist on that server; the playlist there holds the same songs in the
/// same order, and saving the other list under the same name replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recommendation_list_becomes_a_playlist_on_the_subsonic_server_in_chromium() {
    use musicrec_server::{Upstream, UpstreamConfig};
    use musicrec_testkit::supysonic::{self, Supysonic};

    let Some(gtzan) = gtzan_mini() else {
        return;
    };
    if !browser_available() {
        return;
    }
    let Some(python) = supysonic::python() else {
        return;
    };
    let lib = common::Library::new(&gtzan, 2);
    let server = {
        let (python, music) = (python.clone(), lib.music.clone());
        tokio::task::spawn_blocking(move || Supysonic::start(&python, &music))
            .await
            .unwrap()
    };
    let upstream = Upstream::new(UpstreamConfig {
        url: server.url(),
        user: supysonic::USER.into(),
        password: supysonic::PASSWORD.into(),
        refresh_every: Duration::from_secs(600),
    })
    .unwrap();
    let state = lib.state().with_upstream(upstream.clone());
    upstream.refresh(&state).await.unwrap();
    let app = musicrec_server::app(state, Access::open());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (_driver, port) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = connect(port, profile.path()).await;
    client.goto(&format!("{base}/")).await.unwrap();
    wait_for(
        &client,
        "the save form (companion mode)",
        "!document.getElementById('upstream-save').hidden && document.querySelectorAll('#results li[data-id]').length > 0",
    )
    .await;
    click(&client, "#results .add-seed:not([disabled])").await;
    click(&client, "#recommend").await;
    wait_for(
        &client,
        "recommendations",
        "document.querySelectorAll('#recs-genre li[data-id]').length > 0 && !document.getElementById('save-similarity').disabled",
    )
    .await;
    let name = client.find(Locator::Css("#playlist-name")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("page mix").await.unwrap();

    // The playlist's songs, as catalog ids, read from Supysonic itself.
    let playlist = |server: &Supysonic| -> Vec<i64> {
        let lists = server.call("getPlaylists", &[]);
        let id = lists["playlists"]["playlist"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "page mix")
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .expect("the playlist is on the server");
        let list = server.call("getPlaylist", &[("id", &id)]);
        let entries = match &list["playlist"]["entry"] {
            Value::Array(items) => items.clone(),
            Value::Object(one) => vec![Value::Object(one.clone())],
            _ => Vec::new(),
        };
        let mapping = upstream.mapping();
        entries
            .iter()
            .map(|e| mapping.catalog_id(e["id"].as_str().unwrap()).unwrap())
            .collect()
    };
    for (button, list, verb) in [
        ("save-similarity", "recs-similarity", "Created"),
        ("save-genre", "recs-genre", "Replaced"),
    ] {
        let expected = ids(&client, list).await;
        click(&client, &format!("#{button}")).await;
        wait_for(
            &client,
            verb,
            &format!(
                "document.getElementById('save-message').textContent.startsWith('{verb} playlist')"
            ),
        )
        .await;
        assert_eq!(playlist(&server), expected, "{list}");
    }
}
