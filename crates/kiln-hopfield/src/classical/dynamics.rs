//! The update engine shared by the binary networks: synchronous and asynchronous (seeded random
//! order) sweeps, zero-temperature sign updates or Glauber updates at temperature `T`, clamped
//! neurons, and the stop rule (fixed point, two-cycle or sweep budget).

use burn::config::Config;

use crate::Error;
use crate::patterns::Rng;

/// How the neurons are updated within one sweep.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum UpdateMode {
    /// All neurons at once from the same state (Little dynamics); may end in a two-cycle.
    Synchronous,
    /// One neuron at a time in a fresh seeded random order each sweep; at zero temperature the
    /// energy never increases and the run ends in a fixed point.
    Asynchronous,
}

/// How a binary network is run from an initial state.
#[derive(Config, Debug, PartialEq)]
pub struct DynamicsConfig {
    /// Synchronous or asynchronous updates.
    #[config(default = "UpdateMode::Asynchronous")]
    pub mode: UpdateMode,
    /// Largest number of sweeps (one sweep visits every free neuron once); at least 1.
    #[config(default = 100)]
    pub max_sweeps: usize,
    /// Temperature `T = 1/β`. At `T = 0` a neuron takes the sign of its local field (and keeps
    /// its value on a tie); at `T > 0` it becomes `+1` with probability `σ(β·Δ)`, where `Δ` is
    /// the energy drop of `+1` against `-1` (`Δ = 2hᵢ` in the classical network: Glauber).
    #[config(default = 0.0)]
    pub temperature: f64,
    /// Seed of the update order and of the thermal noise.
    #[config(default = 0)]
    pub seed: u64,
}

impl DynamicsConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `max_sweeps = 0` or a negative or non-finite temperature.
    pub fn validate(&self) -> crate::Result<()> {
        if self.max_sweeps == 0 {
            return Err(Error::config(
                "max_sweeps",
                0,
                "allow at least one sweep, e.g. 100",
            ));
        }
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return Err(Error::config(
                "temperature",
                self.temperature,
                "use a finite temperature >= 0 (0 is the deterministic dynamics)",
            ));
        }
        Ok(())
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A whole sweep changed nothing (at `T > 0` only checked on the last sweep).
    FixedPoint,
    /// Synchronous updates returned to the state of two sweeps before.
    TwoCycle,
    /// The sweep budget ran out (always the case at `T > 0` unless the last sweep was quiet).
    MaxSweeps,
}

/// The outcome of running a network from an initial state.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The final state (±1 entries).
    pub state: Vec<f32>,
    /// Sweeps made.
    pub sweeps: usize,
    /// Neuron flips made in total.
    pub flips: usize,
    /// Why the run stopped.
    pub stop: Stop,
}

impl Run {
    /// Whether the run ended in a fixed point of the zero-temperature dynamics.
    pub fn converged(&self) -> bool {
        self.stop == Stop::FixedPoint
    }
}

/// A network as the engine sees it: for each neuron the energy drop `Δᵢ = E(sᵢ=-1) - E(sᵢ=+1)`
/// given the other neurons, kept current as neurons change.
pub(crate) trait Drive {
    /// `(Δᵢ, scale)`: the drive of neuron `i` and a magnitude against which a tie is judged.
    fn drive(&self, i: usize) -> (f64, f64);
    /// Neuron `i` changes to `value` (the caches follow).
    fn set(&mut self, i: usize, value: f32);
    /// The current state.
    fn state(&self) -> &[f32];
}

/// Relative size below which a drive counts as a tie (the neuron keeps its value).
const TIE: f64 = 1e-10;

/// The zero-temperature or Glauber decision for one neuron.
fn decide(current: f32, drive: f64, scale: f64, beta: Option<f64>, noise: &mut Rng) -> f32 {
    match beta {
        None => {
            if drive > TIE * scale {
                1.0
            } else if drive < -TIE * scale {
                -1.0
            } else {
                current
            }
        }
        Some(beta) => {
            let p_up = 1.0 / (1.0 + (-beta * drive).exp());
            if noise.uniform() < p_up { 1.0 } else { -1.0 }
        }
    }
}

/// Runs `net` from its current state; `clamp[i] = true` holds neuron `i` fixed.
pub(crate) fn run<D: Drive>(net: &mut D, clamp: Option<&[bool]>, cfg: &DynamicsConfig) -> Run {
    let n = net.state().len();
    let free: Vec<usize> = (0..n).filter(|&i| clamp.is_none_or(|c| !c[i])).collect();
    let beta = (cfg.temperature > 0.0).then(|| 1.0 / cfg.temperature);
    let mut order_rng = Rng::new(cfg.seed);
    let mut noise = Rng::new(cfg.seed ^ 0xA5A5_5A5A_C3C3_3C3C);
    let mut order = free.clone();
    let mut two_back: Option<Vec<f32>> = None;
    let mut flips = 0;
    for sweep in 1..=cfg.max_sweeps {
        let mut changed = 0;
        match cfg.mode {
            UpdateMode::Asynchronous => {
                for k in 0..order.len() {
                    let j = k + order_rng.below(order.len() - k);
                    order.swap(k, j);
                    let i = order[k];
                    let (drive, scale) = net.drive(i);
                    let current = net.state()[i];
                    let next = decide(current, drive, scale, beta, &mut noise);
                    if next != current {
                        net.set(i, next);
                        changed += 1;
                    }
                }
            }
            UpdateMode::Synchronous => {
                let before = net.state().to_vec();
                let next: Vec<(usize, f32)> = free
                    .iter()
                    .map(|&i| {
                        let (drive, scale) = net.drive(i);
                        (i, decide(before[i], drive, scale, beta, &mut noise))
                    })
                    .filter(|&(i, v)| v != before[i])
                    .collect();
                changed = next.len();
                for (i, v) in next {
                    net.set(i, v);
                }
                if changed > 0 && beta.is_none() && two_back.as_deref() == Some(net.state()) {
                    flips += changed;
                    return finish(net, sweep, flips, Stop::TwoCycle);
                }
                two_back = Some(before);
            }
        }
        flips += changed;
        if changed == 0 && (beta.is_none() || sweep == cfg.max_sweeps) {
            return finish(net, sweep, flips, Stop::FixedPoint);
        }
    }
    finish(net, cfg.max_sweeps, flips, Stop::MaxSweeps)
}

fn finish<D: Drive>(net: &D, sweeps: usize, flips: usize, stop: Stop) -> Run {
    Run {
        state: net.state().to_vec(),
        sweeps,
        flips,
        stop,
    }
}

/// Checks that `state` has `dim` entries, all ±1.
pub(crate) fn check_state(context: &str, state: &[f32], dim: usize) -> crate::Result<()> {
    if state.len() != dim {
        return Err(Error::shape(
            context,
            format!("a state of {dim} entries"),
            &[state.len()],
        ));
    }
    if let Some((i, v)) = state
        .iter()
        .enumerate()
        .find(|(_, v)| **v != 1.0 && **v != -1.0)
    {
        return Err(Error::config(
            "state",
            format!("entry {i} = {v}"),
            "binary networks take states with entries +1 or -1",
        ));
    }
    Ok(())
}

/// Checks that `clamp` has `dim` entries.
pub(crate) fn check_clamp(clamp: &[bool], dim: usize) -> crate::Result<()> {
    if clamp.len() != dim {
        return Err(Error::shape(
            "clamp mask",
            format!("one flag per neuron ({dim})"),
            &[clamp.len()],
        ));
    }
    Ok(())
}
