// musicrec web page: library search, seeds, both recommendation methods side by side, likes and
// dislikes, an audio player, a 2-D map of the library, and the blind listening experiment for a
// participant (choose a study, pick seeds, rate a shuffled list whose origins are never shown).
// Plain browser JavaScript, no build step.
"use strict";

const MAX_SEEDS = 5;
const PER_PAGE = 25;
const PALETTE = ["#4fb3ff", "#ff9f43", "#7ee787", "#ff7b72", "#d2a8ff", "#ffd33d",
  "#39c5bb", "#f778ba", "#a5d6ff", "#c9d1d9", "#b392f0", "#85e89d"];

// The server's token, when it has one: given once as ?token=... (then taken out of the address
// bar, so that it is not bookmarked or shared by accident) or typed into the page when an API
// call is refused; kept for this browser tab (sessionStorage).
const TOKEN_KEY = "musicrec-token";
{
  const params = new URLSearchParams(location.search);
  const given = params.get("token");
  if (given !== null) {
    if (given.trim()) sessionStorage.setItem(TOKEN_KEY, given.trim());
    params.delete("token");
    const rest = params.toString();
    history.replaceState(history.state, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  }
}
let token = sessionStorage.getItem(TOKEN_KEY);
let tokenPrompt = null; // the open token dialog, shared by every call waiting for it

const $ = (id) => document.getElementById(id);
const state = {
  seeds: [],
  page: 1,
  query: "",
  genres: [],
  ratings: new Map(), // track id -> { track, like } for the listener named top right
  recs: [], // ids in the recommendation lists now shown (marked on the map)
  playing: null,
  map: null,
  mode: "recommend", // or "experiment"
  exp: { seeds: [], session: null, studies: [] },
};

// Asks for the token once, however many calls were refused; `refused`: a token was tried.
function askToken(refused) {
  if (!tokenPrompt) {
    tokenPrompt = new Promise((resolve) => {
      $("token-error").hidden = !refused;
      $("token-dialog").hidden = false;
      $("token-input").value = "";
      $("token-input").focus();
      $("token-form").onsubmit = (event) => {
        event.preventDefault();
        const typed = $("token-input").value.trim();
        if (!typed) return;
        token = typed;
        sessionStorage.setItem(TOKEN_KEY, typed);
        $("token-dialog").hidden = true;
        tokenPrompt = null;
        resolve();
      };
    });
  }
  return tokenPrompt;
}

async function api(path, options = {}) {
  let response;
  for (;;) {
    const headers = { ...(options.headers || {}) };
    const sentWith = token;
    if (sentWith) headers.Authorization = "Bearer " + sentWith;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    response = await fetch(path, {
      ...options,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (response.status !== 401) break;
    // Refused: ask for the token (unless another call got a new one meanwhile), then retry.
    if (token === sentWith) await askToken(Boolean(sentWith));
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function genreColour(name) {
  const i = state.genres.indexOf(name);
  return i < 0 ? "#8b98a5" : PALETTE[i % PALETTE.length];
}

function genreBadge(track) {
  if (!track.genre) return null;
  const badge = el("span", { class: "genre", title: track.genre_probability != null
    ? `p = ${track.genre_probability.toFixed(2)}` : "" }, track.genre);
  badge.style.background = genreColour(track.genre);
  return badge;
}

function describe(track) {
  return track.artist ? `${track.artist} – ${track.title}` : track.title;
}

// Title (up to two lines, the whole of it on hover) and the artist below it.
function trackMeta(track, ...extra) {
  return el("div", { class: "meta" },
    el("div", { class: "title", title: describe(track) }, track.title),
    track.artist ? el("div", { class: "sub" }, track.artist) : null,
    ...extra);
}

function setMessage(text, isError = false) {
  const m = $("message");
  m.textContent = text;
  m.classList.toggle("error", isError);
}

// ---- player ----

function audioUrl(id) {
  const base = `/api/tracks/${encodeURIComponent(id)}/audio`;
  return token ? `${base}?token=${encodeURIComponent(token)}` : base;
}

function play(track) {
  const player = $("player");
  state.playing = track.id;
  player.src = audioUrl(track.id);
  player.play().catch(() => { /* autoplay may be refused; the controls still work */ });
  $("now-playing").textContent = "▶ " + describe(track) + (track.genre ? ` · ${track.genre}` : "");
  document.querySelectorAll(".tracks li").forEach((li) =>
    li.classList.toggle("playing", Number(li.dataset.id) === track.id));
}

// ---- library ----

async function search(page = 1) {
  state.page = page;
  const q = encodeURIComponent(state.query);
  try {
    const data = await api(`/api/tracks?q=${q}&page=${page}&per_page=${PER_PAGE}`);
    renderResults(data);
  } catch (e) {
    setMessage("Search failed: " + e.message, true);
  }
}

// The seed list the library's + fills: the recommender's, or the participant's.
function activeSeeds() {
  return state.mode === "experiment" ? state.exp.seeds : state.seeds;
}

function renderResults(data) {
  const list = $("results");
  list.replaceChildren();
  if (data.items.length === 0) list.append(el("li", { class: "hint" }, "No track matches."));
  const seeds = activeSeeds();
  for (const track of data.items) {
    const full = seeds.length >= MAX_SEEDS;
    const isSeed = seeds.some((s) => s.id === track.id);
    list.append(el("li", { "data-id": track.id, class: state.playing === track.id ? "playing" : "" },
      el("button", { class: "play", title: "Play", onclick: () => play(track) }, "▶"),
      trackMeta(track),
      genreBadge(track),
      el("button", {
        class: "add-seed", title: track.embedded ? "Use as seed" : "Not embedded by the model",
        disabled: !track.embedded || full || isSeed, onclick: () => addSeed(track),
      }, "+")));
  }
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  $("page-info").textContent = `${data.total} tracks · page ${data.page} / ${pages}`;
  $("prev").disabled = data.page <= 1;
  $("next").disabled = data.page >= pages;
}

// ---- seeds ----

function addSeed(track) {
  const seeds = activeSeeds();
  if (seeds.length >= MAX_SEEDS || seeds.some((s) => s.id === track.id)) return;
  seeds.push(track);
  if (state.mode === "experiment") renderExpSeeds(); else renderSeeds();
  search(state.page);
}

function removeSeed(id) {
  state.seeds = state.seeds.filter((s) => s.id !== id);
  renderSeeds();
  search(state.page);
}

function renderSeeds() {
  const list = $("seeds");
  list.replaceChildren();
  if (state.seeds.length === 0) list.append(el("li", { class: "hint" }, "Add songs from the library with +"));
  for (const seed of state.seeds) {
    list.append(el("li", { "data-id": seed.id },
      el("span", {}, describe(seed)),
      el("button", { class: "remove-seed", title: "Remove", onclick: () => removeSeed(seed.id) }, "✕")));
  }
  $("recommend").disabled = state.seeds.length === 0;
  drawMap();
}

// ---- recommendations ----

function userName() {
  return $("user").value.trim();
}

async function recommend() {
  if (state.seeds.length === 0) return;
  const k = Math.min(100, Math.max(1, Number($("k").value) || 8));
  const body = {
    seeds: state.seeds.map((s) => s.id),
    k,
    metric: $("metric").value,
  };
  if (userName()) body.user = userName();
  setMessage("Recommending…");
  const [similarity, genre] = await Promise.allSettled([
    api("/api/recommend", { method: "POST", body: { ...body, method: "similarity" } }),
    api("/api/recommend", { method: "POST", body: { ...body, method: "genre" } }),
  ]);
  renderRecs($("recs-similarity"), similarity);
  renderRecs($("recs-genre"), genre);
  updateSaveButtons();
  state.recs = [similarity, genre]
    .filter((o) => o.status === "fulfilled")
    .flatMap((o) => o.value.tracks.map((t) => t.id));
  drawMap();
  const ok = similarity.status === "fulfilled" ? similarity.value : null;
  if (ok) {
    const fb = ok.feedback ? ` · your ${ok.feedback.liked} likes and ${ok.feedback.disliked} dislikes count` : "";
    setMessage(`${ok.tracks.length} songs per method (${ok.metric})${fb}`);
  } else {
    setMessage(similarity.reason.message, true);
  }
}

function renderRecs(list, outcome) {
  list.replaceChildren();
  if (outcome.status !== "fulfilled") {
    list.append(el("li", { class: "hint" }, outcome.reason.message));
    return;
  }
  for (const track of outcome.value.tracks) {
    const rating = state.ratings.get(track.id)?.like;
    list.append(el("li", { "data-id": track.id, class: state.playing === track.id ? "playing" : "" },
      el("button", { class: "play", title: "Play", onclick: () => play(track) }, "▶"),
      trackMeta(track, el("div", { class: "info" }, genreBadge(track),
        el("span", { class: "score", title: "score" }, track.score.toFixed(3)))),
      el("div", { class: "rate" },
        el("button", { class: "like" + (rating === true ? " on" : ""), title: "Like",
          onclick: () => rate(track, true) }, "♥"),
        el("button", { class: "dislike" + (rating === false ? " on" : ""), title: "Dislike",
          onclick: () => rate(track, false) }, "⊘"))));
  }
  if (outcome.value.tracks.length === 0) list.append(el("li", { class: "hint" }, "Nothing left to recommend."));
}

// Companion mode: the recommendations can become a playlist on the user's Subsonic server.
async function loadUpstream() {
  try {
    const up = await api("/api/upstream");
    $("upstream-name").textContent = up.url;
    $("upstream-save").hidden = false;
  } catch (e) {
    $("upstream-save").hidden = true;
  }
}

function updateSaveButtons() {
  for (const [button, list] of [["save-similarity", "recs-similarity"], ["save-genre", "recs-genre"]]) {
    $(button).disabled = $(list).querySelectorAll("li[data-id]").length === 0;
  }
}

async function saveToUpstream(list) {
  const tracks = [...$(list).querySelectorAll("li[data-id]")].map((li) => Number(li.dataset.id));
  const name = $("playlist-name").value.trim();
  const message = $("save-message");
  message.classList.remove("error");
  if (!name) {
    message.textContent = "Give the playlist a name.";
    message.classList.add("error");
    return;
  }
  message.textContent = "Saving…";
  try {
    const out = await api("/api/upstream/playlist", { method: "POST", body: { name, tracks } });
    const skipped = out.skipped.length ? ` (${out.skipped.length} not on the server)` : "";
    message.textContent = `${out.replaced ? "Replaced" : "Created"} playlist “${out.name}” with ${out.songs} songs${skipped}.`;
  } catch (e) {
    message.textContent = e.message;
    message.classList.add("error");
  }
}

async function rate(track, like) {
  const user = userName();
  if (!user) {
    setMessage("Enter your name (top right) to like or dislike songs.", true);
    $("user").focus();
    return;
  }
  try {
    await api("/api/feedback", { method: "POST", body: { user, track: track.id, like } });
    state.ratings.set(track.id, { track, like });
    renderRatings();
    await recommend();
  } catch (e) {
    setMessage("Feedback failed: " + e.message, true);
  }
}

// ---- the listener's ratings: shown with their state, each can be undone ----

async function loadRatings() {
  const user = userName();
  state.ratings = new Map();
  if (user) {
    try {
      const data = await api(`/api/feedback?user=${encodeURIComponent(user)}`);
      for (const r of data.ratings) state.ratings.set(r.id, { track: r, like: r.rating === "like" });
    } catch (e) {
      setMessage("Cannot load your ratings: " + e.message, true);
    }
  }
  renderRatings();
}

function renderRatings() {
  const list = $("ratings");
  list.replaceChildren();
  if (state.ratings.size === 0) {
    list.append(el("li", { class: "hint" }, userName()
      ? "No ratings yet: ♥ or ⊘ a recommendation"
      : "Enter your name, then ♥ or ⊘ a recommendation"));
    return;
  }
  for (const [id, { track, like }] of state.ratings) {
    list.append(el("li", { "data-id": id, class: like ? "liked" : "disliked" },
      el("button", { class: "play", title: "Play", onclick: () => play(track) }, "▶"),
      trackMeta(track),
      el("span", { class: "state" }, like ? "♥ liked" : "⊘ disliked"),
      el("button", { class: "undo", title: like ? "Undo the like" : "Undo the dislike",
        onclick: () => undoRating(id) }, "undo")));
  }
}

async function undoRating(id) {
  const user = userName();
  try {
    await api(`/api/feedback?user=${encodeURIComponent(user)}&track=${encodeURIComponent(id)}`,
      { method: "DELETE" });
    state.ratings.delete(id);
    renderRatings();
    if (state.seeds.length > 0) await recommend();
  } catch (e) {
    setMessage("Undo failed: " + e.message, true);
  }
}

// ---- listening experiment ----

function expMessage(text, isError = false) {
  const m = $("exp-message");
  m.textContent = text;
  m.classList.toggle("error", isError);
}

function setMode(mode) {
  state.mode = mode;
  const exp = mode === "experiment";
  for (const [id, on] of [["mode-recommend", !exp], ["mode-experiment", exp]]) {
    $(id).classList.toggle("on", on);
    $(id).setAttribute("aria-pressed", String(on));
  }
  $("experiment-panel").hidden = !exp;
  document.querySelector(".seeds-panel").hidden = exp;
  document.querySelector(".map-panel").hidden = exp;
  $("user-label").hidden = exp;
  $("player").pause();
  updateLibraryVisibility();
  if (exp) {
    loadStudies();
    resumeSession();
  }
  search(state.page);
}

// While a participant rates their list, the library (with its genres) is out of sight.
function updateLibraryVisibility() {
  document.querySelector(".library").hidden = state.mode === "experiment" && state.exp.session !== null;
}

async function loadStudies() {
  try {
    const data = await api("/api/experiments");
    state.exp.studies = data.studies.filter((s) => !s.simulated);
    const select = $("exp-study");
    const previous = select.value;
    select.replaceChildren(...state.exp.studies.map((s) => el("option", { value: s.id }, s.name)));
    if (state.exp.studies.some((s) => String(s.id) === previous)) select.value = previous;
    if (!data.available) expMessage("This catalog does not store listening experiments.", true);
    else if (state.exp.studies.length === 0) expMessage("No study yet: a researcher creates one with `musicrec experiment new`.", true);
    else if (!state.exp.session) expMessage("");
  } catch (e) {
    expMessage("Cannot load the studies: " + e.message, true);
  }
  updateExpStart();
}

function updateExpStart() {
  $("exp-start").disabled = !($("exp-study").value && $("exp-participant").value.trim() && state.exp.seeds.length > 0);
}

function renderExpSeeds() {
  const list = $("exp-seeds");
  list.replaceChildren();
  if (state.exp.seeds.length === 0) list.append(el("li", { class: "hint" }, "Add songs you like from the library with +"));
  for (const seed of state.exp.seeds) {
    list.append(el("li", { "data-id": seed.id },
      el("span", {}, describe(seed)),
      el("button", { class: "remove-seed", title: "Remove", onclick: () => {
        state.exp.seeds = state.exp.seeds.filter((s) => s.id !== seed.id);
        renderExpSeeds();
        search(state.page);
      } }, "✕")));
  }
  updateExpStart();
}

async function startSession() {
  const study = $("exp-study").value;
  const participant = $("exp-participant").value.trim();
  $("exp-start").disabled = true;
  expMessage("Preparing your list…");
  try {
    const session = await api(`/api/experiments/${encodeURIComponent(study)}/sessions`, {
      method: "POST",
      body: { participant, seeds: state.exp.seeds.map((s) => s.id) },
    });
    localStorage.setItem("musicrec-session", String(session.id));
    expMessage("");
    showSession(session);
  } catch (e) {
    expMessage(e.message, true);
    updateExpStart();
  }
}

// A session left open in this browser (a reload, a closed tab) comes back where it was.
async function resumeSession() {
  const saved = localStorage.getItem("musicrec-session");
  if (!saved || state.exp.session) return;
  try {
    showSession(await api(`/api/sessions/${encodeURIComponent(saved)}`));
  } catch (_) {
    localStorage.removeItem("musicrec-session");
  }
}

function showSession(session) {
  state.exp.session = session;
  $("exp-setup").hidden = true;
  $("exp-session").hidden = false;
  $("exp-study-name").textContent = `(${session.study} · ${session.participant})`;
  renderExpItems();
  updateLibraryVisibility();
}

function renderExpItems() {
  const session = state.exp.session;
  const list = $("exp-items");
  list.replaceChildren();
  // Only what a listener needs: no genre, no score, no hint of where a song came from.
  for (const item of session.items) {
    list.append(el("li", { "data-id": item.id, class: state.playing === item.id ? "playing" : "" },
      el("button", { class: "play", title: "Play", onclick: () => play(item) }, "▶"),
      trackMeta(item),
      el("button", { class: "like" + (item.rating === "like" ? " on" : ""), title: "I like it",
        onclick: () => answer(item, true) }, "♥"),
      el("button", { class: "dislike" + (item.rating === "dislike" ? " on" : ""), title: "I don't like it",
        onclick: () => answer(item, false) }, "⊘")));
  }
  const rated = session.items.filter((i) => i.rating).length;
  const done = rated === session.items.length;
  $("exp-progress").textContent = `${rated} of ${session.items.length} songs rated`
    + (done ? "" : " · play each song, then like or dislike it");
  $("exp-thanks").hidden = !done;
}

async function answer(item, like) {
  const session = state.exp.session;
  try {
    const recorded = await api(`/api/sessions/${session.id}/responses`, {
      method: "POST",
      body: { track: item.id, like, round: session.round },
    });
    item.rating = recorded.rating;
    expMessage("");
    renderExpItems();
  } catch (e) {
    expMessage("Your answer was not saved: " + e.message, true);
  }
}

function leaveSession() {
  localStorage.removeItem("musicrec-session");
  state.exp.session = null;
  state.exp.seeds = [];
  $("player").pause();
  $("exp-participant").value = "";
  $("exp-session").hidden = true;
  $("exp-setup").hidden = false;
  $("exp-study-name").textContent = "";
  expMessage("");
  renderExpSeeds();
  updateLibraryVisibility();
  search(state.page);
}

// ---- map ----

async function loadMap() {
  try {
    state.map = await api("/api/map");
  } catch (e) {
    $("map-info").textContent = "(" + e.message + ")";
    return;
  }
  const m = state.map;
  $("map-info").textContent = `(PCA, ${m.points.length} tracks, ${(100 * (m.explained_variance_ratio[0] + m.explained_variance_ratio[1])).toFixed(0)}% of variance)`;
  const legend = $("legend");
  legend.replaceChildren();
  m.genres.forEach((g, i) => {
    const dot = el("i");
    dot.style.background = PALETTE[i % PALETTE.length];
    legend.append(el("li", {}, dot, g));
  });
  legend.append(el("li", {}, el("i", { class: "mark-seed" }), "seed"),
    el("li", {}, el("i", { class: "mark-rec" }), "recommended"));
  state.mapBounds = mapBounds(m.points);
  drawMap();
}

// The view: the bulk of the points fills the canvas. With many points, the 1st to 99th
// percentile of each axis (a few outliers would otherwise squash everything into a corner);
// points beyond are drawn at the edge.
function mapBounds(points) {
  const cut = points.length >= 200 ? 0.01 : 0;
  const range = (values) => {
    values.sort((a, b) => a - b);
    const at = (f) => values[Math.round(f * (values.length - 1))];
    const [lo, hi] = [at(cut), at(1 - cut)];
    return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
  };
  const [minX, maxX] = range(points.map((p) => p.x));
  const [minY, maxY] = range(points.map((p) => p.y));
  return { minX, maxX, minY, maxY };
}

// The canvas has as many pixels as it is shown with (sharp on any screen, any width).
function fitCanvas() {
  const canvas = $("map");
  const width = Math.round(canvas.clientWidth * (window.devicePixelRatio || 1));
  if (width > 0 && canvas.width !== width) {
    canvas.width = width;
    canvas.height = Math.round(width * 0.75);
  }
}

function mapLayout() {
  const canvas = $("map");
  const { minX, maxX, minY, maxY } = state.mapBounds;
  const pad = Math.max(10, canvas.width * 0.025);
  const sx = (canvas.width - 2 * pad) / (maxX - minX);
  const sy = (canvas.height - 2 * pad) / (maxY - minY);
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return {
    x: (p) => clamp(pad + (p.x - minX) * sx, pad, canvas.width - pad),
    y: (p) => clamp(canvas.height - pad - (p.y - minY) * sy, pad, canvas.height - pad),
  };
}

// Every track as a dot in its genre's colour; the current recommendations ringed in yellow and
// the seeds as white diamonds on top (state.mapMarks lists what was marked where).
function drawMap() {
  if (!state.map) return;
  fitCanvas();
  const canvas = $("map");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const layout = mapLayout();
  const n = state.map.points.length;
  const scale = canvas.width / 560;
  const radius = (n > 20000 ? 1 : n > 2000 ? 2.5 : 6) * scale;
  for (const p of state.map.points) {
    ctx.fillStyle = p.genre == null ? "#8b98a5" : PALETTE[p.genre % PALETTE.length];
    ctx.globalAlpha = 0.85;
    ctx.beginPath();
    ctx.arc(layout.x(p), layout.y(p), radius, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.globalAlpha = 1;
  const byId = new Map(state.map.points.map((p) => [p.id, p]));
  const marks = [];
  ctx.strokeStyle = "#ffd33d";
  ctx.lineWidth = 2.5 * scale;
  for (const id of new Set(state.recs)) {
    const p = byId.get(id);
    if (!p) continue;
    ctx.beginPath();
    ctx.arc(layout.x(p), layout.y(p), radius + 4 * scale, 0, 2 * Math.PI);
    ctx.stroke();
    marks.push({ id, kind: "recommended", x: layout.x(p), y: layout.y(p) });
  }
  const size = Math.max(7, radius + 3 * scale);
  for (const seed of activeSeeds()) {
    const p = byId.get(seed.id);
    if (!p) continue;
    const [x, y] = [layout.x(p), layout.y(p)];
    ctx.beginPath();
    ctx.moveTo(x, y - size); ctx.lineTo(x + size, y); ctx.lineTo(x, y + size); ctx.lineTo(x - size, y);
    ctx.closePath();
    ctx.fillStyle = "#ffffff";
    ctx.fill();
    ctx.lineWidth = 1.5 * scale;
    ctx.strokeStyle = "#0c1116";
    ctx.stroke();
    marks.push({ id: seed.id, kind: "seed", x, y });
  }
  state.mapMarks = marks;
}

function pointAt(event) {
  if (!state.map) return null;
  const canvas = $("map");
  const rect = canvas.getBoundingClientRect();
  const mx = (event.clientX - rect.left) * (canvas.width / rect.width);
  const my = (event.clientY - rect.top) * (canvas.height / rect.height);
  const layout = mapLayout();
  let best = null;
  let bestD = 64; // within 8 canvas pixels
  for (const p of state.map.points) {
    const d = (layout.x(p) - mx) ** 2 + (layout.y(p) - my) ** 2;
    if (d < bestD) { bestD = d; best = p; }
  }
  return best;
}

function mapTrack(p) {
  return { id: p.id, title: p.label, genre: p.genre == null ? null : state.map.genres[p.genre] };
}

// ---- start ----

async function loadStats() {
  try {
    const s = await api("/api/stats");
    state.genres = s.model ? s.model.genres : [];
    $("stats").textContent = s.model
      ? `${s.tracks} tracks · model ${s.model.id.slice(0, 24)} · ${s.model.indexed_tracks} embedded · ${s.users} listeners`
      : `${s.tracks} tracks · no embedded model yet`;
  } catch (e) {
    $("stats").textContent = "API unavailable: " + e.message;
  }
}

function start() {
  const user = $("user");
  user.value = localStorage.getItem("musicrec-user") || "";
  user.addEventListener("change", () => {
    localStorage.setItem("musicrec-user", user.value.trim());
    loadRatings();
  });
  window.addEventListener("resize", () => drawMap());
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.query = $("search").value.trim();
    search(1);
  });
  $("prev").addEventListener("click", () => search(state.page - 1));
  $("next").addEventListener("click", () => search(state.page + 1));
  $("recommend").addEventListener("click", recommend);
  $("save-similarity").addEventListener("click", () => saveToUpstream("recs-similarity"));
  $("save-genre").addEventListener("click", () => saveToUpstream("recs-genre"));
  $("upstream-save").addEventListener("submit", (e) => e.preventDefault());
  $("mode-recommend").addEventListener("click", () => setMode("recommend"));
  $("mode-experiment").addEventListener("click", () => setMode("experiment"));
  $("exp-participant").addEventListener("input", updateExpStart);
  $("exp-study").addEventListener("change", updateExpStart);
  $("exp-start").addEventListener("click", startSession);
  $("exp-leave").addEventListener("click", leaveSession);
  const canvas = $("map");
  const tip = $("tooltip");
  canvas.addEventListener("mousemove", (e) => {
    const p = pointAt(e);
    if (!p) { tip.hidden = true; return; }
    const genre = p.genre == null ? "" : ` · ${state.map.genres[p.genre]}`;
    tip.textContent = p.label + genre;
    tip.style.left = `${e.offsetX}px`;
    tip.style.top = `${e.offsetY}px`;
    tip.hidden = false;
  });
  canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
  canvas.addEventListener("click", (e) => { const p = pointAt(e); if (p) play(mapTrack(p)); });
  loadStats().then(() => { search(1); loadMap(); loadRatings(); loadUpstream(); });
}

document.addEventListener("DOMContentLoaded", start);
