//! The web page in a real browser: headless Chromium driven through chromedriver (WebDriver, with
//! the `fantoccini` client) against the server started in-process on a free port over a catalog
//! of real clips. It searches, picks seeds, recommends with both methods, plays a track until the
//! `<audio>` element reaches `canplay`, dislikes a recommendation and sees the list change, and
//! hovers and clicks the map. Screenshots go to `$CARGO_TARGET_TMPDIR/screenshots/`.
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
use musicrec_server::Access;
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

async fn screenshot(client: &Client, dir: &Path, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_seed_recommend_play_dislike_and_map_in_chromium() {
    let Some(gtzan) = common::gtzan_mini() else {
        return;
    };
    if !browser_available() {
        return;
    }
    let shots: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let lib = common::Library::new(&gtzan, 3);
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
        "document.getElementById('stats').textContent.includes('30 tracks')",
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

    // The map: 30 points in 10 genres; hovering a point shows its track, clicking plays it.
    wait_for(
        &client,
        "map legend",
        "document.querySelectorAll('#legend li').length === 10",
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
    screenshot(&client, &shots, "5-map").await;

    client.close().await.unwrap();
    eprintln!("screenshots in {}", shots.display());
}
