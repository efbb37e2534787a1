//! Shared by the reference demos: regular evaluation grids, prediction / exact / error heatmaps
//! and loss curves written into a demo report.
#![allow(dead_code, unreachable_pub)]

use std::ops::Range;

use kiln_core::plot::{Heatmap, LinePlot, Series};
use kiln_core::report::DemoReport;
use kiln_pinn::Points;

/// A regular `nx × ny` grid over a rectangle, points stored with x varying fastest (the layout
/// [`Heatmap`] expects).
#[derive(Debug, Clone)]
pub struct Grid {
    /// Points along the first axis.
    pub nx: usize,
    /// Points along the second axis.
    pub ny: usize,
    /// Extent of the first axis.
    pub x_range: Range<f64>,
    /// Extent of the second axis.
    pub y_range: Range<f64>,
    /// The grid points, `[nx * ny, 2]`.
    pub points: Points,
}

impl Grid {
    /// The grid with both ends of each range included.
    ///
    /// # Errors
    /// Never for `nx, ny >= 2`; the `Result` is that of [`Points::new`].
    pub fn new(
        nx: usize,
        ny: usize,
        x_range: Range<f64>,
        y_range: Range<f64>,
    ) -> kiln_pinn::Result<Self> {
        let mut data = Vec::with_capacity(2 * nx * ny);
        for j in 0..ny {
            for i in 0..nx {
                let x = x_range.start + (x_range.end - x_range.start) * i as f64 / (nx - 1) as f64;
                let y = y_range.start + (y_range.end - y_range.start) * j as f64 / (ny - 1) as f64;
                data.extend([x, y]);
            }
        }
        Ok(Grid {
            nx,
            ny,
            x_range,
            y_range,
            points: Points::new(2, data)?,
        })
    }

    /// `f` at every grid point.
    pub fn map(&self, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
        self.points.rows().map(|p| f(p[0], p[1])).collect()
    }
}

/// Writes `<prefix>predicted.png`, `<prefix>exact.png` and `<prefix>error.png` (|pred - exact|)
/// for one field on `grid` and records them in the report.
///
/// # Errors
/// Plotting errors from kiln-core.
#[allow(clippy::too_many_arguments)]
pub fn save_field(
    report: &mut DemoReport,
    grid: &Grid,
    axes: (&str, &str),
    prefix: &str,
    field: &str,
    exact_name: &str,
    prediction: &[f64],
    exact: &[f64],
) -> kiln_core::Result<()> {
    let error: Vec<f64> = prediction
        .iter()
        .zip(exact)
        .map(|(a, b)| (a - b).abs())
        .collect();
    let pixels = (640, 520);
    for (file, title, values) in [
        (
            format!("{prefix}predicted.png"),
            format!("PINN {field}"),
            prediction.to_vec(),
        ),
        (
            format!("{prefix}exact.png"),
            format!("{exact_name} {field}"),
            exact.to_vec(),
        ),
        (
            format!("{prefix}error.png"),
            format!("|PINN - exact| of {field}"),
            error,
        ),
    ] {
        Heatmap {
            title: title.clone(),
            x_label: axes.0.into(),
            y_label: axes.1.into(),
            values,
            nx: grid.nx,
            ny: grid.ny,
            x_range: grid.x_range.clone(),
            y_range: grid.y_range.clone(),
        }
        .save(report.path(&file), pixels)?;
        report.plot(file, title);
    }
    Ok(())
}

/// Writes `file` with one or more loss histories on a log scale and records it.
///
/// # Errors
/// Plotting errors from kiln-core.
pub fn save_losses(
    report: &mut DemoReport,
    file: &str,
    title: &str,
    runs: &[(&str, &[f64])],
) -> kiln_core::Result<()> {
    let mut plot = LinePlot::new(title, "step", "loss").log_y();
    for (name, losses) in runs {
        plot = plot.with(Series::loss_curve(*name, losses));
    }
    plot.save(report.path(file), (800, 480))?;
    report.plot(file, title);
    Ok(())
}

/// Writes `causal_weights.png`: the causal weight of each time chunk for the final model.
///
/// # Errors
/// Plotting errors from kiln-core.
pub fn save_causal_weights(report: &mut DemoReport, weights: &[f64]) -> kiln_core::Result<()> {
    LinePlot::new(
        "causal weights per time chunk (final model)",
        "chunk",
        "weight",
    )
    .with(Series::line(
        "w_i = exp(-ε Σ_{k<i} L_k)",
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| (i as f64, *w))
            .collect(),
    ))
    .save(report.path("causal_weights.png"), (700, 420))?;
    report.plot("causal_weights.png", "causal weights after training");
    Ok(())
}
