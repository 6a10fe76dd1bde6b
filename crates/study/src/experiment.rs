//! Listening experiments done right (the paper's user study, without its biases): a session hides
//! every compared method's recommendations among random decoy tracks, shuffled, so a participant
//! cannot tell which list an item came from; the analysis counts likes per participant per method,
//! takes the decoys' like rate as the floor any method must beat, and compares methods with a
//! paired t-test (t, df, two-sided p, mean difference with its 95% confidence interval, Cohen's
//! d_z) and a Wilcoxon signed-rank test, both from `musicrec_eval::stats` (checked against scipy).
//!
//! Storage is the catalog's [`ExperimentStore`]; this module decides what a session holds and
//! what the answers say.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use musicrec_catalog::{
    CatalogError, DECOY_ORIGIN, EmbeddingSet, ExperimentResponse, Rating, Session, SessionId,
    SessionItem, Study, TrackId,
};
use musicrec_eval::EvalError;
use musicrec_eval::stats::{PairedTTest, WilcoxonTest, paired_t_test, wilcoxon_signed_rank};
use musicrec_plot::plotters::prelude::*;
use musicrec_plot::plotters::style::text_anchor::{HPos, Pos, VPos};
use musicrec_plot::{FONT_FAMILY, PlotError, palette_color, render_png, write_atomically};
use musicrec_recommend::cf::CfError;
use musicrec_recommend::{EmbeddingIndex, GenreBlend, Method, RecommendError, RecommendRequest};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Why an experiment step failed; every message is one line.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The catalog refused or failed.
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    /// A recommendation failed.
    #[error("{0}")]
    Recommend(#[from] RecommendError),
    /// A statistic could not be computed.
    #[error("{0}")]
    Stats(#[from] EvalError),
    /// The plot could not be drawn or written.
    #[error("{0}")]
    Plot(#[from] PlotError),
    /// A report file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The request does not make sense (unknown method, too few participants, ...).
    #[error("{0}")]
    Invalid(String),
}

/// Result alias of the experiment, simulation and interaction-comparison modules.
pub type ExperimentResult<T> = std::result::Result<T, ExperimentError>;

impl From<CfError> for ExperimentError {
    /// Each kind of failure keeps its kind (and its message).
    fn from(err: CfError) -> Self {
        match err {
            CfError::Catalog(e) => Self::Catalog(e),
            CfError::Recommend(e) => Self::Recommend(e),
            CfError::Invalid(message) => Self::Invalid(message),
        }
    }
}

fn invalid<T>(message: impl Into<String>) -> ExperimentResult<T> {
    Err(ExperimentError::Invalid(message.into()))
}

/// The recommendation methods a study can compare (the paper's two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudyMethod {
    /// Method 1: embedding similarity to the seeds.
    Similarity,
    /// Method 2: similarity plus genre information, with [`GenreBlend::default`].
    Genre,
}

impl StudyMethod {
    /// Names accepted by [`StudyMethod::parse`].
    pub const NAMES: [&'static str; 2] = ["similarity", "genre"];

    /// `similarity` or `genre`.
    pub fn parse(name: &str) -> ExperimentResult<Self> {
        match name.trim() {
            "similarity" => Ok(Self::Similarity),
            "genre" => Ok(Self::Genre),
            other => invalid(format!(
                "unknown study method {other:?}: expected one of {}",
                Self::NAMES.join(", ")
            )),
        }
    }

    /// The method's name as stored in a study.
    pub fn name(self) -> &'static str {
        match self {
            Self::Similarity => "similarity",
            Self::Genre => "genre",
        }
    }

    fn request_method(self) -> Method {
        match self {
            Self::Similarity => Method::Similarity,
            Self::Genre => Method::SimilarityAndGenre(GenreBlend::default()),
        }
    }
}

/// A shuffle seed that is the same every time for one participant of one study (so a session can
/// be rebuilt and audited) and different between participants.
pub fn participant_shuffle_seed(study: &str, participant: &str) -> u64 {
    let hash = blake3::hash(format!("{study}\u{0}{participant}").as_bytes());
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// One participant's list: each method's `study.k` recommendations for `seeds` (an item two
/// methods both recommend is listed once with both origins), plus `study.decoys` random tracks
/// that no method recommended and that are not seeds, all shuffled with `shuffle_seed`.
/// Fewer decoys are taken when the catalog has too few other tracks.
pub fn plan_session(
    study: &Study,
    set: &EmbeddingSet,
    index: &EmbeddingIndex,
    seeds: &[TrackId],
    shuffle_seed: u64,
) -> ExperimentResult<Vec<SessionItem>> {
    if seeds.is_empty() {
        return invalid("a session needs at least one seed track");
    }
    let methods = study
        .methods
        .iter()
        .map(|m| StudyMethod::parse(m))
        .collect::<ExperimentResult<Vec<_>>>()?;
    let mut origins: Vec<(TrackId, Vec<String>)> = Vec::new();
    let seed_ids: Vec<i64> = seeds.iter().map(|s| s.0).collect();
    for method in methods {
        if method == StudyMethod::Genre && !index.has_genres() {
            return invalid("method genre needs genre probabilities, and this model has no genres");
        }
        let mut request = RecommendRequest::new(seed_ids.clone(), study.k);
        request.method = method.request_method();
        for hit in index.recommend(&request)?.tracks {
            let id = TrackId(hit.id);
            match origins.iter_mut().find(|(t, _)| *t == id) {
                Some((_, o)) => o.push(method.name().to_owned()),
                None => origins.push((id, vec![method.name().to_owned()])),
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(shuffle_seed);
    // Decoys: neither seeds (nor copies of them) nor recommended items.
    let mut taken: Vec<u32> = seed_ids
        .iter()
        .map(|&id| index.row(id))
        .collect::<musicrec_recommend::Result<Vec<u32>>>()?
        .into_iter()
        .flat_map(|row| index.duplicate_rows(row))
        .collect();
    for (id, _) in &origins {
        taken.push(index.row(id.0)?);
    }
    taken.sort_unstable();
    let mut pool: Vec<i64> = (0..index.len() as u32)
        .filter(|row| taken.binary_search(row).is_err())
        .map(|row| index.ids()[row as usize])
        .collect();
    pool.shuffle(&mut rng);
    for &id in pool.iter().take(study.decoys) {
        origins.push((TrackId(id), vec![DECOY_ORIGIN.to_owned()]));
    }
    origins.shuffle(&mut rng);
    origins
        .into_iter()
        .map(|(track, origins)| {
            let row = set.row_of(track).ok_or_else(|| {
                ExperimentError::Invalid(format!("track {track} is not in the embedding set"))
            })?;
            Ok(SessionItem {
                track,
                path: set.tracks[row].path.clone(),
                origins,
            })
        })
        .collect()
}

/// Likes among one group of a participant's items in one round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GroupLikes {
    /// Items of the group in the session.
    pub items: usize,
    /// Items rated in the round.
    pub rated: usize,
    /// Items liked in the round.
    pub likes: usize,
}

impl GroupLikes {
    /// Likes over rated items (`None` when nothing was rated).
    pub fn like_rate(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.likes as f64 / self.rated as f64)
    }
}

/// One participant's likes per method (in the study's method order) and among the decoys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticipantLikes {
    /// Participant name.
    pub participant: String,
    /// Their session.
    pub session: SessionId,
    /// One entry per method.
    pub methods: Vec<GroupLikes>,
    /// The decoys.
    pub decoys: GroupLikes,
}

/// A method's (or the decoys') like rate over participants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSummary {
    /// Method name, or "decoy".
    pub name: String,
    /// Participants counted.
    pub participants: usize,
    /// Likes over all those participants.
    pub likes: usize,
    /// Ratings over all those participants.
    pub rated: usize,
    /// Mean over participants of their like rate.
    pub mean_like_rate: f64,
    /// Sample standard deviation (ddof = 1) of the participants' like rates (NaN below 2).
    pub sd_like_rate: f64,
    /// 95% t interval of the mean like rate (`None` below 2 participants).
    pub ci95: Option<(f64, f64)>,
}

/// Paired comparison of two methods over the participants' like rates (difference = A - B).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodComparison {
    /// Method A.
    pub method_a: String,
    /// Method B.
    pub method_b: String,
    /// Pairs (participants who rated items of both methods).
    pub pairs: usize,
    /// `scipy.stats.ttest_rel(A, B)` with the 95% interval of the mean difference and Cohen's
    /// d_z (`None` with `t_test_note` when undefined, e.g. all differences equal).
    pub t_test: Option<PairedTTest>,
    /// Why the t-test is missing.
    pub t_test_note: Option<String>,
    /// `scipy.stats.wilcoxon(A, B)` (`None` with a note when every difference is zero).
    pub wilcoxon: Option<WilcoxonTest>,
    /// Why the Wilcoxon test is missing.
    pub wilcoxon_note: Option<String>,
}

/// The analysis of one round of a study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyAnalysis {
    /// Study name.
    pub study: String,
    /// Whether virtual listeners produced the answers.
    pub simulated: bool,
    /// The analysed round.
    pub round: u32,
    /// The compared methods, in order.
    pub methods: Vec<String>,
    /// Recommendations per method per session.
    pub k: usize,
    /// Decoys per session.
    pub decoys: usize,
    /// Participants counted.
    pub participants: Vec<ParticipantLikes>,
    /// Participants left out, with the reason.
    pub excluded: Vec<(String, String)>,
    /// One summary per method, then the decoys (the floor).
    pub summaries: Vec<GroupSummary>,
    /// Every pair of methods (A before B in the study's order).
    pub comparisons: Vec<MethodComparison>,
}

fn mean_sd_ci(values: &[f64]) -> (f64, f64, Option<(f64, f64)>) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN, None);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, f64::NAN, None);
    }
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let q = students_t_975(n - 1.0);
    let half = q * sd / n.sqrt();
    (mean, sd, Some((mean - half, mean + half)))
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom.
fn students_t_975(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

/// Likes per participant per method (and among decoys) in `round`, the decoy floor and the paired
/// tests. Participants who rated no item of some method in that round are left out (listed in
/// `excluded`); fewer than two participants left is an error.
pub fn analyze_study(
    study: &Study,
    sessions: &[Session],
    responses: &[ExperimentResponse],
    round: u32,
) -> ExperimentResult<StudyAnalysis> {
    if round == 0 {
        return invalid("rounds count from 1");
    }
    let mut ratings: HashMap<(SessionId, TrackId), Rating> = HashMap::new();
    for r in responses.iter().filter(|r| r.round == round) {
        ratings.insert((r.session, r.track), r.rating);
    }
    let mut participants = Vec::new();
    let mut excluded = Vec::new();
    for session in sessions.iter().filter(|s| s.study == study.id) {
        let group = |pred: &dyn Fn(&SessionItem) -> bool| {
            let mut g = GroupLikes {
                items: 0,
                rated: 0,
                likes: 0,
            };
            for item in session.items.iter().filter(|i| pred(i)) {
                g.items += 1;
                if let Some(rating) = ratings.get(&(session.id, item.track)) {
                    g.rated += 1;
                    g.likes += usize::from(*rating == Rating::Like);
                }
            }
            g
        };
        let methods: Vec<GroupLikes> = study
            .methods
            .iter()
            .map(|m| group(&|i: &SessionItem| i.origins.contains(m)))
            .collect();
        let decoys = group(&|i: &SessionItem| i.is_decoy());
        if let Some((m, _)) = study
            .methods
            .iter()
            .zip(&methods)
            .find(|(_, g)| g.rated == 0)
        {
            let reason = if methods.iter().all(|g| g.rated == 0) {
                format!("no ratings in round {round}")
            } else {
                format!("rated none of method {m}'s items in round {round}")
            };
            excluded.push((session.participant.clone(), reason));
            continue;
        }
        participants.push(ParticipantLikes {
            participant: session.participant.clone(),
            session: session.id,
            methods,
            decoys,
        });
    }
    if participants.len() < 2 {
        return invalid(format!(
            "study {:?} has {} participant(s) with ratings of every method in round {round}; \
             an analysis needs at least two",
            study.name,
            participants.len()
        ));
    }

    let mut summaries = Vec::new();
    let summarise = |name: &str, groups: Vec<GroupLikes>| {
        let rates: Vec<f64> = groups.iter().filter_map(GroupLikes::like_rate).collect();
        let (mean, sd, ci) = mean_sd_ci(&rates);
        GroupSummary {
            name: name.to_owned(),
            participants: rates.len(),
            likes: groups.iter().map(|g| g.likes).sum(),
            rated: groups.iter().map(|g| g.rated).sum(),
            mean_like_rate: mean,
            sd_like_rate: sd,
            ci95: ci,
        }
    };
    for (m, name) in study.methods.iter().enumerate() {
        summaries.push(summarise(
            name,
            participants.iter().map(|p| p.methods[m]).collect(),
        ));
    }
    summaries.push(summarise(
        DECOY_ORIGIN,
        participants.iter().map(|p| p.decoys).collect(),
    ));

    let rates = |m: usize| -> Vec<f64> {
        participants
            .iter()
            .map(|p| p.methods[m].like_rate().unwrap_or(f64::NAN))
            .collect()
    };
    let mut comparisons = Vec::new();
    for a in 0..study.methods.len() {
        for b in a + 1..study.methods.len() {
            let (ra, rb) = (rates(a), rates(b));
            let (t_test, t_test_note) = split(paired_t_test(&ra, &rb, 0.95));
            let (wilcoxon, wilcoxon_note) = split(wilcoxon_signed_rank(&ra, &rb));
            comparisons.push(MethodComparison {
                method_a: study.methods[a].clone(),
                method_b: study.methods[b].clone(),
                pairs: ra.len(),
                t_test,
                t_test_note,
                wilcoxon,
                wilcoxon_note,
            });
        }
    }
    Ok(StudyAnalysis {
        study: study.name.clone(),
        simulated: study.simulated,
        round,
        methods: study.methods.clone(),
        k: study.k,
        decoys: study.decoys,
        participants,
        excluded,
        summaries,
        comparisons,
    })
}

fn split<T>(result: Result<T, EvalError>) -> (Option<T>, Option<String>) {
    match result {
        Ok(value) => (Some(value), None),
        Err(err) => (None, Some(err.to_string())),
    }
}

/// Files written by [`StudyAnalysis::write_report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// `analysis.md`.
    pub markdown: PathBuf,
    /// `analysis.json`.
    pub json: PathBuf,
    /// `like_rates.png`.
    pub plot: PathBuf,
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

impl StudyAnalysis {
    /// "SIMULATED" banner text for simulated studies, empty otherwise.
    fn banner(&self) -> &'static str {
        if self.simulated {
            "SIMULATED study (virtual listeners with known tastes, not people)"
        } else {
            ""
        }
    }

    /// The report as Markdown: the per-participant table, summaries with the decoy floor, and
    /// each paired comparison.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let kind = if self.simulated { " (simulated)" } else { "" };
        md.push_str(&format!(
            "# Listening experiment {:?}{kind}, round {}\n\n",
            self.study, self.round
        ));
        if self.simulated {
            md.push_str(&format!("**{}.**\n\n", self.banner()));
        }
        md.push_str(&format!(
            "{} participants; each list held {} recommendations per method ({}) hidden among {} \
             random decoys, shuffled; participants did not know the origins.\n\n",
            self.participants.len(),
            self.k,
            self.methods.join(", "),
            self.decoys
        ));
        md.push_str("| participant |");
        for m in &self.methods {
            md.push_str(&format!(" {m} likes |"));
        }
        md.push_str(" decoy likes |\n|---|");
        for _ in 0..=self.methods.len() {
            md.push_str("---:|");
        }
        md.push('\n');
        for p in &self.participants {
            md.push_str(&format!("| {} |", p.participant));
            for g in p.methods.iter().chain([&p.decoys]) {
                md.push_str(&format!(" {}/{} |", g.likes, g.rated));
            }
            md.push('\n');
        }
        if !self.excluded.is_empty() {
            md.push_str("\nLeft out: ");
            let list: Vec<String> = self
                .excluded
                .iter()
                .map(|(p, why)| format!("{p} ({why})"))
                .collect();
            md.push_str(&list.join("; "));
            md.push('\n');
        }
        md.push_str(
            "\n| group | participants | likes / rated | mean like rate | 95% CI |\n\
             |---|---:|---:|---:|---|\n",
        );
        for s in &self.summaries {
            let ci = s
                .ci95
                .map_or("-".to_owned(), |(lo, hi)| format!("[{lo:.3}, {hi:.3}]"));
            let floor = if s.name == DECOY_ORIGIN {
                " (floor)"
            } else {
                ""
            };
            md.push_str(&format!(
                "| {}{floor} | {} | {}/{} | {:.3} | {ci} |\n",
                s.name, s.participants, s.likes, s.rated, s.mean_like_rate
            ));
        }
        for c in &self.comparisons {
            md.push_str(&format!(
                "\n## {} vs {} (difference = {} - {}, {} pairs)\n\n",
                c.method_a, c.method_b, c.method_a, c.method_b, c.pairs
            ));
            match &c.t_test {
                Some(t) => md.push_str(&format!(
                    "- paired t-test: t = {:.3}, df = {}, two-sided p = {}\n\
                     - mean difference of like rates = {:.3}, 95% CI [{:.3}, {:.3}]\n\
                     - effect size Cohen's d_z = {:.3}\n",
                    t.t,
                    t.df,
                    fmt_p(t.p_value),
                    t.mean_difference,
                    t.ci_low,
                    t.ci_high,
                    t.cohens_dz
                )),
                None => md.push_str(&format!(
                    "- paired t-test: {}\n",
                    c.t_test_note.as_deref().unwrap_or("not computed")
                )),
            }
            match &c.wilcoxon {
                Some(w) => md.push_str(&format!(
                    "- Wilcoxon signed-rank: W = {}, two-sided p = {} ({:?}; {} zero differences dropped)\n",
                    w.statistic,
                    fmt_p(w.p_value),
                    w.method,
                    w.n_zero
                )),
                None => md.push_str(&format!(
                    "- Wilcoxon signed-rank: {}\n",
                    c.wilcoxon_note.as_deref().unwrap_or("not computed")
                )),
            }
        }
        md
    }

    /// Bars of the mean like rate per method and for the decoys, with 95% intervals.
    pub fn plot(&self, path: &Path) -> ExperimentResult<()> {
        let title = format!(
            "{}: like rate per method, round {}{}",
            self.study,
            self.round,
            if self.simulated { " (SIMULATED)" } else { "" }
        );
        let n = self.summaries.len();
        render_png(path, (720, 480), |root| {
            let mut chart = ChartBuilder::on(root)
                .caption(&title, (FONT_FAMILY, 20))
                .margin(16)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..n as f64, 0f64..1.05f64)
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(0)
                .y_desc("like rate")
                .label_style((FONT_FAMILY, 14))
                .axis_desc_style((FONT_FAMILY, 16))
                .draw()
                .map_err(|e| e.to_string())?;
            for (i, s) in self.summaries.iter().enumerate() {
                let color = if s.name == DECOY_ORIGIN {
                    RGBColor(127, 127, 127)
                } else {
                    palette_color(i)
                };
                let x = i as f64;
                let value = if s.mean_like_rate.is_finite() {
                    s.mean_like_rate.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                chart
                    .draw_series([Rectangle::new(
                        [(x + 0.2, 0.0), (x + 0.8, value)],
                        color.filled(),
                    )])
                    .map_err(|e| e.to_string())?;
                if let Some((lo, hi)) = s.ci95 {
                    chart
                        .draw_series([PathElement::new(
                            vec![(x + 0.5, lo.clamp(0.0, 1.0)), (x + 0.5, hi.clamp(0.0, 1.0))],
                            BLACK.stroke_width(2),
                        )])
                        .map_err(|e| e.to_string())?;
                }
                let (px, py) = chart.backend_coord(&(x + 0.5, 0.0));
                let style = TextStyle::from((FONT_FAMILY, 15).into_font())
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top));
                root.draw_text(&s.name, &style, (px, py + 8))
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Writes `analysis.md`, `analysis.json` and `like_rates.png` into `dir` (created if needed).
    pub fn write_report(&self, dir: &Path) -> ExperimentResult<ReportFiles> {
        let files = ReportFiles {
            markdown: dir.join("analysis.md"),
            json: dir.join("analysis.json"),
            plot: dir.join("like_rates.png"),
        };
        let write_text = |path: &Path, text: String| -> ExperimentResult<()> {
            write_atomically(path, |out| {
                out.write_all(text.as_bytes())
                    .map_err(|source| PlotError::Io {
                        path: path.to_path_buf(),
                        source,
                    })
            })?;
            Ok(())
        };
        write_text(&files.markdown, self.to_markdown())?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| ExperimentError::Invalid(format!("cannot serialise the analysis: {e}")))?;
        write_text(&files.json, json)?;
        self.plot(&files.plot)?;
        Ok(files)
    }
}
