//! Collaborative filtering against content similarity, offline: hold out part of each user's
//! likes, rank with content-only, CF-only and the hybrid (`musicrec_recommend::cf`), and report
//! recall@k and NDCG@k against the exact random baseline ([`compare_on_interactions`]), on a real
//! interaction log ([`read_interactions_csv`]) or simulated listeners
//! ([`simulate_interactions`]); the report says which data it was.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use musicrec_catalog::CatalogStore;
use musicrec_recommend::cf::{
    CfError, CfModel, CfParams, DEFAULT_HYBRID_WEIGHT, Interaction, Play, Ranker, rank_for_user,
};
use musicrec_recommend::{EmbeddingIndex, Hit, RecommendError};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::experiment::{ExperimentError, ExperimentResult};

/// Where a comparison's interactions came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InteractionSource {
    /// A real interaction log.
    Log {
        /// The CSV file.
        path: PathBuf,
        /// Rows whose track could not be resolved in the catalog.
        unresolved_rows: usize,
    },
    /// Virtual listeners from [`simulate_interactions`].
    Simulated {
        /// How they were made.
        spec: InteractionSimSpec,
    },
}

impl InteractionSource {
    /// One line for reports: says "simulated" or names the log.
    pub fn describe(&self) -> String {
        match self {
            Self::Log {
                path,
                unresolved_rows,
            } => format!(
                "real interaction log {} ({unresolved_rows} rows with tracks not in the catalog skipped)",
                path.display()
            ),
            Self::Simulated { spec } => format!(
                "simulated listeners ({} users, {} likes each, {:.0}% from their genre, the rest \
                 from one of {} audio-independent taste groups; seed {})",
                spec.users,
                spec.likes_per_user,
                spec.genre_share * 100.0,
                spec.taste_groups,
                spec.seed
            ),
        }
    }
}

/// Interactions and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionData {
    /// The source.
    pub source: InteractionSource,
    /// The likes and dislikes.
    pub interactions: Vec<Interaction>,
    /// Play counts (implicit positives; empty when the source has none).
    pub plays: Vec<Play>,
}

/// Reads an interaction log: a CSV with header `user,track` and `like` and/or `plays`, and an
/// optional `timestamp`. `track` is a catalog path or id (resolved by `resolve`; rows it cannot
/// resolve are counted and skipped); `like` is `1`/`true`/`like` or `0`/`-1`/`false`/`dislike`,
/// or empty on a row that only counts plays; `plays` is a play count (a listening log's
/// `user,track,plays` works as it is); `timestamp` is an integer (later = larger) used to hold
/// out each user's latest likes.
pub fn read_interactions_csv(
    path: &Path,
    resolve: &mut dyn FnMut(&str) -> Option<i64>,
) -> ExperimentResult<InteractionData> {
    let io = |e: csv::Error| ExperimentError::Invalid(format!("{}: {e}", path.display()));
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(io)?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(io)?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let like_col = column("like");
    let plays_col = column("plays");
    let (Some(user_col), Some(track_col), true) = (
        column("user"),
        column("track"),
        like_col.is_some() || plays_col.is_some(),
    ) else {
        return Err(ExperimentError::Invalid(format!(
            "{}: the header must name the columns user,track and like and/or plays \
             (plus an optional timestamp), got {}",
            path.display(),
            headers.join(",")
        )));
    };
    let time_col = column("timestamp");
    let mut interactions = Vec::new();
    let mut plays = Vec::new();
    let mut unresolved = 0;
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(io)?;
        let line = n + 2;
        let field = |c: usize| record.get(c).unwrap_or("");
        let bad = |what: String| {
            ExperimentError::Invalid(format!("{} line {line}: {what}", path.display()))
        };
        let user = field(user_col);
        if user.is_empty() {
            return Err(bad("empty user".into()));
        }
        let liked = match like_col.map(field).unwrap_or("").to_lowercase().as_str() {
            "" => None,
            "1" | "true" | "like" => Some(true),
            "0" | "-1" | "false" | "dislike" => Some(false),
            other => {
                return Err(bad(format!(
                    "like must be 1/0/-1, true/false or like/dislike, got {other:?}"
                )));
            }
        };
        let play_count = match plays_col.map(field).filter(|p| !p.is_empty()) {
            Some(p) => p
                .parse::<u32>()
                .map_err(|_| bad(format!("plays {p:?} is not a count")))?,
            None => 0,
        };
        if liked.is_none() && play_count == 0 {
            return Err(bad("neither a like/dislike nor a play count".into()));
        }
        let timestamp = match time_col.map(field).filter(|t| !t.is_empty()) {
            Some(t) => Some(
                t.parse::<i64>()
                    .map_err(|_| bad(format!("timestamp {t:?} is not an integer")))?,
            ),
            None => None,
        };
        let Some(track) = resolve(field(track_col)) else {
            unresolved += 1;
            continue;
        };
        if let Some(liked) = liked {
            interactions.push(Interaction {
                user: user.to_owned(),
                track,
                liked,
                timestamp,
            });
        }
        if play_count > 0 {
            plays.push(Play {
                user: user.to_owned(),
                track,
                count: play_count,
            });
        }
    }
    Ok(InteractionData {
        source: InteractionSource::Log {
            path: path.to_path_buf(),
            unresolved_rows: unresolved,
        },
        interactions,
        plays,
    })
}

/// Resolves a log's `track` field in a catalog: a catalog id, a stored path (as written, then
/// canonicalised), or an unambiguous "artist - title" / title. For [`read_interactions_csv`].
pub fn resolve_in_catalog(store: &dyn CatalogStore, text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(id) = text.parse::<i64>()
        && let Ok(Some(track)) = store.track(musicrec_catalog::TrackId(id))
    {
        return Some(track.id.0);
    }
    let path = Path::new(text);
    if let Ok(Some(track)) = store.track_by_path(path) {
        return Some(track.id.0);
    }
    if let Ok(canonical) = std::fs::canonicalize(path)
        && let Ok(Some(track)) = store.track_by_path(&canonical)
    {
        return Some(track.id.0);
    }
    match store.find_track(text) {
        Ok(musicrec_catalog::TrackMatch::Found(track)) => Some(track.id.0),
        _ => None,
    }
}

/// Virtual listeners for [`simulate_interactions`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InteractionSimSpec {
    /// Listeners.
    pub users: usize,
    /// Likes per listener (fewer in a small catalog).
    pub likes_per_user: usize,
    /// Share of a listener's likes drawn from their favourite genre (the model's most probable
    /// genre, which audio similarity can see); the rest come from their taste group.
    pub genre_share: f64,
    /// Audio-independent taste groups (random sets of tracks shared by the listeners of a group,
    /// like a scene or a friend circle): what only collaborative filtering can learn.
    pub taste_groups: usize,
    /// Tracks per taste group.
    pub group_size: usize,
    /// Dislikes per listener (random tracks outside their genre and group).
    pub dislikes_per_user: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for InteractionSimSpec {
    fn default() -> Self {
        Self {
            users: 60,
            likes_per_user: 12,
            genre_share: 0.5,
            taste_groups: 6,
            group_size: 20,
            dislikes_per_user: 3,
            seed: 7,
        }
    }
}

/// Listeners with known tastes over the tracks of `index` (which needs genre probabilities).
pub fn simulate_interactions(
    index: &EmbeddingIndex,
    spec: &InteractionSimSpec,
) -> ExperimentResult<InteractionData> {
    if !index.has_genres() {
        return Err(RecommendError::NoGenres.into());
    }
    if !(0.0..=1.0).contains(&spec.genre_share) {
        return Err(ExperimentError::Invalid(format!(
            "genre share must be within [0, 1], got {}",
            spec.genre_share
        )));
    }
    if spec.users == 0 || spec.likes_per_user == 0 || spec.taste_groups == 0 {
        return Err(ExperimentError::Invalid(
            "simulated listeners need users, likes and taste groups".into(),
        ));
    }
    let n = index.len();
    let top: Vec<usize> = index
        .ids()
        .iter()
        .map(|&id| {
            let p = index.genre_probabilities(id)?;
            Ok(p.iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |b, (i, &x)| if x > b.1 { (i, x) } else { b },
                )
                .0)
        })
        .collect::<ExperimentResult<_>>()?;
    let mut by_genre: HashMap<usize, Vec<usize>> = HashMap::new();
    for (row, &g) in top.iter().enumerate() {
        by_genre.entry(g).or_default().push(row);
    }
    let present: Vec<usize> = {
        let mut g: Vec<usize> = by_genre.keys().copied().collect();
        g.sort_unstable();
        g
    };
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let groups: Vec<Vec<usize>> = (0..spec.taste_groups)
        .map(|_| {
            let mut rows: Vec<usize> = (0..n).collect();
            rows.shuffle(&mut rng);
            rows.truncate(spec.group_size.clamp(1, n));
            rows
        })
        .collect();
    let mut interactions = Vec::new();
    for u in 0..spec.users {
        let user = format!("listener-{u:03}");
        let genre = *present
            .choose(&mut rng)
            .expect("a non-empty index has a genre");
        let group = &groups[u % groups.len()];
        let mut liked: Vec<usize> = Vec::new();
        let want = spec.likes_per_user.min(n);
        let mut tries = 0;
        while liked.len() < want && tries < want * 50 {
            tries += 1;
            let row = if rng.random_bool(spec.genre_share) {
                *by_genre[&genre].choose(&mut rng).expect("genre has tracks")
            } else {
                *group.choose(&mut rng).expect("group has tracks")
            };
            if !liked.contains(&row) {
                liked.push(row);
            }
        }
        for (t, &row) in liked.iter().enumerate() {
            interactions.push(Interaction {
                user: user.clone(),
                track: index.ids()[row],
                liked: true,
                timestamp: Some(t as i64),
            });
        }
        let mut disliked = 0;
        let mut tries = 0;
        while disliked < spec.dislikes_per_user && tries < 200 {
            tries += 1;
            let row = rng.random_range(0..n);
            if top[row] != genre && !group.contains(&row) && !liked.contains(&row) {
                interactions.push(Interaction {
                    user: user.clone(),
                    track: index.ids()[row],
                    liked: false,
                    timestamp: Some((liked.len() + disliked) as i64),
                });
                disliked += 1;
            }
        }
    }
    Ok(InteractionData {
        source: InteractionSource::Simulated { spec: *spec },
        interactions,
        plays: Vec::new(),
    })
}

// ------------------------------------------------------------------ comparison

/// Settings of [`compare_on_interactions`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompareOptions {
    /// Cut-off of recall@k and NDCG@k.
    pub k: usize,
    /// Share of each user's likes held out (at least one; users with fewer than two likes are
    /// not evaluated).
    pub holdout: f64,
    /// CF weight of the hybrid.
    pub hybrid_weight: f32,
    /// Matrix factorisation.
    pub cf: CfParams,
    /// Seed of the random hold-out (used when a user's likes have no timestamps).
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            k: 10,
            holdout: 0.2,
            hybrid_weight: DEFAULT_HYBRID_WEIGHT,
            cf: CfParams::default(),
            seed: 11,
        }
    }
}

/// One method's mean scores over the evaluated users.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodScore {
    /// content, cf, hybrid or random (expected value, exact).
    pub method: String,
    /// Mean recall@k.
    pub recall_at_k: f64,
    /// Mean NDCG@k (binary relevance).
    pub ndcg_at_k: f64,
}

/// The outcome of [`compare_on_interactions`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InteractionComparison {
    /// Which data: "simulated listeners (...)" or "real interaction log ...".
    pub data: String,
    /// Whether the data was simulated.
    pub simulated: bool,
    /// The source in detail.
    pub source: InteractionSource,
    /// The cut-off.
    pub k: usize,
    /// Users whose held-out likes were ranked.
    pub users_evaluated: usize,
    /// Users with fewer than two likes in the index, not evaluated.
    pub users_skipped: usize,
    /// Likes the models learned from.
    pub train_likes: usize,
    /// Likes held out.
    pub held_out_likes: usize,
    /// (user, track) play counts the models learned from.
    pub train_plays: usize,
    /// Tracks in the index.
    pub tracks: usize,
    /// content, cf, hybrid, random.
    pub methods: Vec<MethodScore>,
    /// The settings.
    pub options: CompareOptions,
}

impl InteractionComparison {
    /// The score of a method by name.
    pub fn method(&self, name: &str) -> Option<&MethodScore> {
        self.methods.iter().find(|m| m.method == name)
    }

    /// A Markdown section: which data, the split, and the table.
    pub fn to_markdown(&self) -> String {
        let mut md = format!(
            "## Content vs collaborative filtering vs hybrid{}\n\n",
            if self.simulated {
                " (SIMULATED data)"
            } else {
                ""
            }
        );
        md.push_str(&format!("Data: {}.\n\n", self.data));
        md.push_str(&format!(
            "{} users evaluated ({} with fewer than two likes skipped), {} training likes, {} \
             play counts, {} held-out likes ({:.0}% per user, latest first when timestamped), {} tracks; hybrid = \
             {:.2} x CF + {:.2} x content (min-max scaled, content alone for tracks nobody \
             liked); CF: implicit ALS, {} factors, {} iterations, alpha {}.\n\n",
            self.users_evaluated,
            self.users_skipped,
            self.train_likes,
            self.train_plays,
            self.held_out_likes,
            self.options.holdout * 100.0,
            self.tracks,
            self.options.hybrid_weight,
            1.0 - self.options.hybrid_weight,
            self.options.cf.factors,
            self.options.cf.iterations,
            self.options.cf.alpha
        ));
        md.push_str(&format!(
            "| method | recall@{k} | NDCG@{k} |\n|---|---:|---:|\n",
            k = self.k
        ));
        for m in &self.methods {
            md.push_str(&format!(
                "| {} | {:.4} | {:.4} |\n",
                m.method, m.recall_at_k, m.ndcg_at_k
            ));
        }
        md
    }
}

fn dcg_discount(position: usize) -> f64 {
    1.0 / ((position + 2) as f64).log2()
}

/// Recall@k and NDCG@k of one ranking against the held-out set.
fn score_ranking(ranked: &[Hit], held_out: &HashSet<i64>, k: usize) -> (f64, f64) {
    let mut hits = 0;
    let mut dcg = 0.0;
    for (i, hit) in ranked.iter().take(k).enumerate() {
        if held_out.contains(&hit.id) {
            hits += 1;
            dcg += dcg_discount(i);
        }
    }
    let ideal: f64 = (0..held_out.len().min(k)).map(dcg_discount).sum();
    (hits as f64 / held_out.len() as f64, dcg / ideal)
}

/// One evaluated user of [`compare_on_interactions`].
struct HeldOutUser<'a> {
    user: &'a str,
    /// Likes the models learn from.
    kept: Vec<i64>,
    dislikes: Vec<i64>,
    /// Likes to find.
    held: HashSet<i64>,
}

/// Compares content-only, CF-only and hybrid ranking on held-out likes. For each user with at
/// least two likes among the index's tracks, `options.holdout` of their likes (the latest when
/// every like is timestamped, else a seeded random choice) are hidden; the CF model is fitted on
/// everyone's remaining likes; each method ranks every track the user has not rated in training,
/// and recall@k / NDCG@k are averaged over users. `random` is the exact expectation of a uniform
/// random ranking of the same candidates. Interactions with tracks outside the index are dropped.
pub fn compare_on_interactions(
    index: &EmbeddingIndex,
    data: &InteractionData,
    options: &CompareOptions,
) -> ExperimentResult<InteractionComparison> {
    if options.k == 0 {
        return Err(ExperimentError::Invalid("k must be at least 1".into()));
    }
    if !(options.holdout > 0.0 && options.holdout < 1.0) {
        return Err(ExperimentError::Invalid(format!(
            "hold-out share must be within (0, 1), got {}",
            options.holdout
        )));
    }
    // Latest opinion per (user, track), tracks in the index only.
    let mut latest: HashMap<(&str, i64), (usize, &Interaction)> = HashMap::new();
    for (n, i) in data.interactions.iter().enumerate() {
        if index.row(i.track).is_err() {
            continue;
        }
        let key = (i.user.as_str(), i.track);
        let newer = latest
            .get(&key)
            .is_none_or(|(m, old)| (i.timestamp, n) >= (old.timestamp, *m));
        if newer {
            latest.insert(key, (n, i));
        }
    }
    let mut per_user: HashMap<&str, Vec<&Interaction>> = HashMap::new();
    for (_, i) in latest.values() {
        per_user.entry(i.user.as_str()).or_default().push(i);
    }
    let mut users: Vec<&str> = per_user.keys().copied().collect();
    users.sort_unstable();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut train: Vec<Interaction> = Vec::new();
    let mut tests: Vec<HeldOutUser<'_>> = Vec::new();
    let mut skipped = 0;
    for user in users {
        let mut items = per_user.remove(user).unwrap_or_default();
        items.sort_by_key(|i| (i.timestamp, i.track));
        let mut likes: Vec<&Interaction> = items.iter().copied().filter(|i| i.liked).collect();
        let dislikes: Vec<i64> = items.iter().filter(|i| !i.liked).map(|i| i.track).collect();
        train.extend(items.iter().filter(|i| !i.liked).map(|i| (*i).clone()));
        if likes.len() < 2 {
            skipped += 1;
            train.extend(likes.iter().map(|i| (*i).clone()));
            continue;
        }
        if likes.iter().any(|i| i.timestamp.is_none()) {
            likes.shuffle(&mut rng);
        }
        let n_out =
            ((likes.len() as f64 * options.holdout).round() as usize).clamp(1, likes.len() - 1);
        let (kept, held) = likes.split_at(likes.len() - n_out);
        train.extend(kept.iter().map(|i| (*i).clone()));
        tests.push(HeldOutUser {
            user,
            kept: kept.iter().map(|i| i.track).collect(),
            dislikes,
            held: held.iter().map(|i| i.track).collect(),
        });
    }
    if tests.is_empty() {
        return Err(ExperimentError::Invalid(format!(
            "no user has two or more likes of tracks in the catalog ({}); nothing to hold out",
            data.source.describe()
        )));
    }
    // Plays train the model too, except a user's plays of their own held-out tracks (they would
    // give the answer away); the tracks a user played stay out of their candidates, as tracks
    // they already know.
    let held_out: HashSet<(&str, i64)> = tests
        .iter()
        .flat_map(|t| t.held.iter().map(move |track| (t.user, *track)))
        .collect();
    let train_plays: Vec<Play> = data
        .plays
        .iter()
        .filter(|p| index.row(p.track).is_ok() && !held_out.contains(&(p.user.as_str(), p.track)))
        .cloned()
        .collect();
    let mut played: HashMap<&str, Vec<i64>> = HashMap::new();
    for p in &train_plays {
        played.entry(p.user.as_str()).or_default().push(p.track);
    }
    let cf = CfModel::fit_with_plays(&train, &train_plays, &options.cf);
    let rankers = [
        ("content", Ranker::Content),
        ("cf", Ranker::Cf),
        (
            "hybrid",
            Ranker::Hybrid {
                weight: options.hybrid_weight,
            },
        ),
    ];
    let mut sums = [(0.0f64, 0.0f64); 4];
    let mut held_total = 0;
    for HeldOutUser {
        user,
        kept,
        dislikes,
        held,
    } in &tests
    {
        held_total += held.len();
        let mut exclude = kept.clone();
        exclude.extend(dislikes);
        exclude.extend(played.get(user).into_iter().flatten());
        for (slot, (_, ranker)) in rankers.iter().enumerate() {
            let ranked =
                match rank_for_user(index, cf.as_ref(), user, kept, &exclude, *ranker, options.k) {
                    Ok(r) => r,
                    // A user CF cannot place gets an empty list: zero for CF, as in production.
                    Err(CfError::Invalid(_)) => Vec::new(),
                    Err(other) => return Err(other.into()),
                };
            let (recall, ndcg) = score_ranking(&ranked, held, options.k);
            sums[slot].0 += recall;
            sums[slot].1 += ndcg;
        }
        // Random: each of the min(k, c) slots holds a held-out track with probability h / c.
        let mut excluded: HashSet<u32> = HashSet::new();
        for &id in &exclude {
            excluded.extend(index.duplicate_rows(index.row(id)?));
        }
        let candidates = index.len() - excluded.len();
        let h = held
            .iter()
            .filter(|id| index.row(**id).is_ok_and(|r| !excluded.contains(&r)))
            .count();
        if candidates > 0 {
            let p = h as f64 / candidates as f64;
            let slots = options.k.min(candidates);
            let ideal: f64 = (0..held.len().min(options.k)).map(dcg_discount).sum();
            sums[3].0 += slots as f64 * p / held.len() as f64;
            sums[3].1 += (0..slots).map(dcg_discount).sum::<f64>() * p / ideal;
        }
    }
    let users = tests.len() as f64;
    let methods = ["content", "cf", "hybrid", "random"]
        .iter()
        .zip(sums)
        .map(|(name, (recall, ndcg))| MethodScore {
            method: (*name).to_owned(),
            recall_at_k: recall / users,
            ndcg_at_k: ndcg / users,
        })
        .collect();
    let simulated = matches!(data.source, InteractionSource::Simulated { .. });
    Ok(InteractionComparison {
        data: data.source.describe(),
        simulated,
        source: data.source.clone(),
        k: options.k,
        users_evaluated: tests.len(),
        users_skipped: skipped,
        train_likes: train.iter().filter(|i| i.liked).count(),
        held_out_likes: held_total,
        train_plays: train_plays.len(),
        tracks: index.len(),
        methods,
        options: *options,
    })
}
