//! Checkpoints: model, optimiser state, step, seed and loss history in one directory, written
//! atomically so an interrupted save never leaves a half checkpoint behind.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::TrainerConfig;
use super::optimizer::Optimizer;
use crate::device::{BackendKind, backend_of, precision_of};
use crate::{Error, Result};

const MODEL: &str = "model.bpk";
const OPTIMIZER: &str = "optimizer.bpk";
const STATE: &str = "state.json";
const FORMAT: u32 = 1;

/// What a checkpoint records besides the tensors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) format: u32,
    /// Number of finished steps.
    pub(crate) step: usize,
    pub(crate) config: TrainerConfig,
    /// Loss after each finished step.
    pub(crate) losses: Vec<f64>,
    /// L-BFGS met a tolerance: the run is finished even with fewer steps than configured.
    #[serde(default)]
    pub(crate) converged: bool,
}

/// The checkpoint directory inside a run's output directory.
pub(crate) fn dir(out: &Path) -> PathBuf {
    out.join("checkpoint")
}

pub(crate) fn exists(out: &Path) -> bool {
    dir(out).join(STATE).is_file()
}

pub(crate) fn save<M: Module + Clone>(
    out: &Path,
    model: &M,
    optim: &Optimizer,
    state: &State,
) -> Result<()> {
    let final_dir = dir(out);
    let tmp = out.join("checkpoint.tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let model_path = tmp.join(MODEL);
    model
        .clone()
        .save_file(&model_path)
        .map_err(|source| Error::Record {
            path: model_path.clone(),
            source,
        })?;
    optim.save(&tmp.join(OPTIMIZER))?;
    let state_path = tmp.join(STATE);
    let json = serde_json::to_string_pretty(state).map_err(|source| Error::Json {
        path: state_path.clone(),
        source,
    })?;
    fs::write(&state_path, json).map_err(|e| Error::io(&state_path, e))?;
    if final_dir.exists() {
        fs::remove_dir_all(&final_dir).map_err(|e| Error::io(&final_dir, e))?;
    }
    fs::rename(&tmp, &final_dir).map_err(|e| Error::io(&final_dir, e))
}

/// burn 0.22.1 rebuilds optimiser state on `Device::default()`, in that device's float dtype,
/// and moves it to the parameters' device at the next step without converting it. When the two
/// devices differ in precision (an f64 run on ndarray while flex is the f32 default), the restored
/// moments would have the wrong dtype, so refuse with the way out instead.
fn check_restore_device(dir: &Path, device: &Device) -> Result<()> {
    let default = Device::default();
    let plain = device.clone().without_autodiff();
    let (want, have) = (precision_of(&plain), precision_of(&default));
    if plain == default || want == have {
        return Ok(());
    }
    let backend = backend_of(&plain).map_or("<this backend>", BackendKind::name);
    Err(Error::Checkpoint {
        path: dir.to_path_buf(),
        what: format!(
            "burn restores optimiser state on its default device ({default:?}, {have}) but this \
             run trains in {want} on {plain:?}; set BURN_DEVICE={backend} so they agree"
        ),
    })
}

pub(crate) fn load<M: Module>(
    out: &Path,
    device: &Device,
    model: M,
    optim: Optimizer,
    config: &TrainerConfig,
) -> Result<(M, Optimizer, State)> {
    let dir = dir(out);
    let state_path = dir.join(STATE);
    let text = fs::read_to_string(&state_path).map_err(|e| Error::io(&state_path, e))?;
    let state: State = serde_json::from_str(&text).map_err(|source| Error::Json {
        path: state_path.clone(),
        source,
    })?;
    let bad = |what: String| Error::Checkpoint {
        path: dir.clone(),
        what,
    };
    if state.format != FORMAT {
        return Err(bad(format!(
            "format {} is not supported (expected {FORMAT}); start a fresh run",
            state.format
        )));
    }
    if !state.config.same_run(config) {
        return Err(bad(format!(
            "it was written by a run with another configuration ({}); resume with the same \
             configuration or choose a new output directory",
            state.config.difference(config)
        )));
    }
    if state.losses.len() != state.step {
        return Err(bad(format!(
            "records {} losses for {} steps; the file is damaged",
            state.losses.len(),
            state.step
        )));
    }
    check_restore_device(&dir, device)?;
    let model_path = dir.join(MODEL);
    let model = model
        .try_load_file(&model_path)
        .map_err(|source| Error::Record {
            path: model_path.clone(),
            source,
        })?;
    let optim = optim.load(&dir.join(OPTIMIZER))?;
    Ok((model, optim, state))
}

pub(crate) fn new_state(
    step: usize,
    config: &TrainerConfig,
    losses: &[f64],
    converged: bool,
) -> State {
    State {
        format: FORMAT,
        step,
        config: config.clone(),
        losses: losses.to_vec(),
        converged,
    }
}
