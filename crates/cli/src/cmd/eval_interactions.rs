//! `musicrec eval-recs --interactions FILE|simulated`: content-only, collaborative filtering and
//! the hybrid compared on held-out likes of a catalog's listeners (`musicrec_lab::interactions`).
//! This module prints the report and says when the listeners were simulated.

use std::path::Path;
use std::process::ExitCode;

use musicrec_lab::interactions::{InteractionSettings, compare};

/// Runs the comparison `settings` describe, prints it, and writes it into `out` when given.
pub fn run(settings: &InteractionSettings, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let outcome = compare(settings)?;
    out!("{}", outcome.markdown)?;
    if outcome.simulated {
        outln!(
            "\nSIMULATED: these listeners are virtual; run with --interactions LOG.csv for real ones."
        )?;
    }
    if let Some(out) = out {
        let (json, md) = outcome.write(out)?;
        outln!("wrote {} and {}", json.display(), md.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
