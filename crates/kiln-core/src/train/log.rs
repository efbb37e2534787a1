//! `metrics.jsonl`: one JSON record per finished step, written as the run goes and trimmed
//! back to the checkpoint when a run resumes.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Number of finished steps (1-based).
    pub step: usize,
    /// Loss of the step.
    pub loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Global gradient norm before clipping (first-order optimisers).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub grad_norm: Option<f64>,
    /// Named loss terms.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub terms: Vec<(String, f64)>,
    /// Wall-clock seconds since this process started the run.
    pub elapsed_s: f64,
}

pub(crate) struct MetricsLog {
    path: PathBuf,
    writer: BufWriter<File>,
}

impl MetricsLog {
    /// Opens `metrics.jsonl`, keeping only the records of the first `keep` steps (a resumed run
    /// drops what an interrupted run logged after its last checkpoint).
    pub(crate) fn open(out: &Path, keep: usize) -> Result<Self> {
        let path = out.join("metrics.jsonl");
        let mut kept = Vec::new();
        if keep > 0 && path.exists() {
            let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
            for line in BufReader::new(file).lines() {
                let line = line.map_err(|e| Error::io(&path, e))?;
                match serde_json::from_str::<StepRecord>(&line) {
                    Ok(r) if r.step <= keep => kept.push(line),
                    _ => {}
                }
            }
        }
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut writer = BufWriter::new(file);
        for line in kept {
            writeln!(writer, "{line}").map_err(|e| Error::io(&path, e))?;
        }
        Ok(MetricsLog { path, writer })
    }

    pub(crate) fn write(&mut self, record: &StepRecord) -> Result<()> {
        let line = serde_json::to_string(record).map_err(|source| Error::Json {
            path: self.path.clone(),
            source,
        })?;
        writeln!(self.writer, "{line}").map_err(|e| Error::io(&self.path, e))
    }

    pub(crate) fn flush(&mut self) -> Result<()> {
        self.writer.flush().map_err(|e| Error::io(&self.path, e))
    }
}

/// Reads a `metrics.jsonl` written by a [`Trainer`](super::Trainer).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Data`] for a line that is not a record.
pub fn read_metrics(path: impl AsRef<Path>) -> Result<Vec<StepRecord>> {
    let path = path.as_ref();
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Data {
                path: path.to_path_buf(),
                what: format!("line {} is not a step record: {e}", i + 1),
            })
        })
        .collect()
}
