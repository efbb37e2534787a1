//! PNG plots: line plots (loss curves, 1-D fields), heatmaps with a colour bar (2-D fields) and
//! scatter plots (2-D samples).
//!
//! Text is drawn with a font embedded in the binary, so plots render on a fresh machine with no
//! system fonts installed.

use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::colors::colormaps::ViridisRGB;

use crate::{Error, Result};

const FONT: &str = "sans-serif";
/// Ten distinct colours (the tab10 set) so plots with up to ten series stay unambiguous.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
];

/// Registers the embedded font once per process.
fn ensure_font() {
    static FONT_READY: OnceLock<()> = OnceLock::new();
    FONT_READY.get_or_init(|| {
        // The embedded TTF is valid, so registration cannot fail.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

fn plot_error(path: &Path) -> impl Fn(String) -> Error + '_ {
    move |what| Error::Plot {
        path: path.to_path_buf(),
        what,
    }
}

/// One named curve of a [`LinePlot`].
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// `(x, y)` points in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Draw dashed-looking markers instead of a line (for reference data).
    pub markers: bool,
}

impl Series {
    /// A line series.
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            markers: false,
        }
    }

    /// A loss curve: `losses[k]` is drawn at step `k + 1`.
    pub fn loss_curve(name: impl Into<String>, losses: &[f64]) -> Self {
        let points = losses
            .iter()
            .enumerate()
            .map(|(k, &l)| ((k + 1) as f64, l))
            .collect();
        Series::line(name, points)
    }

    /// A series drawn as markers only.
    pub fn markers(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            markers: true,
        }
    }
}

/// A line plot of one or more series.
#[derive(Debug, Clone)]
pub struct LinePlot {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic y axis (loss curves); non-positive values are dropped.
    pub log_y: bool,
    /// The curves.
    pub series: Vec<Series>,
}

impl LinePlot {
    /// An empty plot with a title and axis labels.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        LinePlot {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y: false,
            series: Vec::new(),
        }
    }

    /// Switches to a logarithmic y axis.
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    /// Adds a series.
    pub fn with(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Renders to a PNG of `size` pixels.
    ///
    /// # Errors
    /// [`Error::Plot`] for an empty plot, non-finite data, or a file that cannot be written.
    pub fn save(&self, path: impl AsRef<Path>, size: (u32, u32)) -> Result<()> {
        let path = path.as_ref();
        let err = plot_error(path);
        let keep =
            |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!self.log_y || y > 0.0);
        let series: Vec<(&Series, Vec<(f64, f64)>)> = self
            .series
            .iter()
            .map(|s| (s, s.points.iter().copied().filter(keep).collect::<Vec<_>>()))
            .collect();
        let all: Vec<(f64, f64)> = series.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        if all.is_empty() {
            return Err(err("no finite points to plot".into()));
        }
        let xr = padded(all.iter().map(|p| p.0), 0.0);
        ensure_font();
        let root = BitMapBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(&self.title, (FONT, 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70);
        let style = |i: usize| PALETTE[i % PALETTE.len()];
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart.map_err(|e| err(e.to_string()))?;
                chart
                    .configure_mesh()
                    .x_desc(&self.x_label)
                    .y_desc(&self.y_label)
                    .y_label_formatter(&|v| tick_label(*v))
                    .label_style((FONT, 14))
                    .draw()
                    .map_err(|e| err(e.to_string()))?;
                for (i, (s, points)) in series.iter().enumerate() {
                    let color = style(i);
                    if s.markers {
                        chart
                            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                            .map_err(|e| err(e.to_string()))?
                            .label(&s.name)
                            .legend(move |(x, y)| Circle::new((x + 10, y), 3, color.filled()));
                    } else {
                        chart
                            .draw_series(LineSeries::new(
                                points.iter().copied(),
                                color.stroke_width(2),
                            ))
                            .map_err(|e| err(e.to_string()))?
                            .label(&s.name)
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                            });
                    }
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .label_font((FONT, 14))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .draw()
                    .map_err(|e| err(e.to_string()))?;
            }};
        }
        if self.log_y {
            let (lo, hi) = min_max(all.iter().map(|p| p.1));
            let yr = (lo / 1.5)..(hi * 1.5);
            draw!(builder.build_cartesian_2d(xr, yr.log_scale()));
        } else {
            let yr = padded(all.iter().map(|p| p.1), 0.05);
            draw!(builder.build_cartesian_2d(xr, yr));
        }
        root.present().map_err(|e| err(e.to_string()))
    }
}

/// A short tick label: scientific notation for very small or large magnitudes (log axes), else
/// at most four decimals without trailing zeros.
fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        let text = format!("{v:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// The range of the values, widened by `pad` of its width (and made non-empty).
fn padded(values: impl Iterator<Item = f64>, pad: f64) -> Range<f64> {
    let (lo, hi) = min_max(values);
    let width = hi - lo;
    if width <= f64::EPSILON * hi.abs().max(1.0) {
        let d = hi.abs().max(1.0) * 0.5;
        return (lo - d)..(hi + d);
    }
    (lo - pad * width)..(hi + pad * width)
}

/// A 2-D field on a regular grid, drawn as coloured cells with a colour bar.
#[derive(Debug, Clone)]
pub struct Heatmap {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Values row by row: `values[iy * nx + ix]`, with `iy = 0` at the bottom (smallest y).
    pub values: Vec<f64>,
    /// Number of cells along x.
    pub nx: usize,
    /// Number of cells along y.
    pub ny: usize,
    /// The x extent of the grid.
    pub x_range: Range<f64>,
    /// The y extent of the grid.
    pub y_range: Range<f64>,
}

impl Heatmap {
    /// Renders to a PNG of `size` pixels.
    ///
    /// # Errors
    /// [`Error::Plot`] when `values.len() != nx * ny`, no value is finite, or the file cannot be
    /// written.
    pub fn save(&self, path: impl AsRef<Path>, size: (u32, u32)) -> Result<()> {
        let path = path.as_ref();
        let err = plot_error(path);
        if self.values.len() != self.nx * self.ny || self.nx == 0 || self.ny == 0 {
            return Err(err(format!(
                "heatmap has {} values for a {}x{} grid; give nx * ny values",
                self.values.len(),
                self.nx,
                self.ny
            )));
        }
        let (lo, hi) = min_max(self.values.iter().copied().filter(|v| v.is_finite()));
        if !lo.is_finite() {
            return Err(err("no finite values to plot".into()));
        }
        let hi = if hi > lo { hi } else { lo + 1.0 };
        ensure_font();
        let root = BitMapBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let (main, bar) = root.split_horizontally(size.0.saturating_sub(110).max(1));
        self.draw_field(&main, lo, hi)
            .map_err(|e| err(e.to_string()))?;
        draw_colour_bar(&bar, lo, hi).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))
    }

    fn draw_field<'a>(
        &self,
        area: &DrawingArea<BitMapBackend<'a>, Shift>,
        lo: f64,
        hi: f64,
    ) -> std::result::Result<
        (),
        DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>,
    > {
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(self.x_range.clone(), self.y_range.clone())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT, 14))
            .draw()?;
        let dx = (self.x_range.end - self.x_range.start) / self.nx as f64;
        let dy = (self.y_range.end - self.y_range.start) / self.ny as f64;
        chart.draw_series((0..self.ny).flat_map(|iy| {
            (0..self.nx).map(move |ix| {
                let v = self.values[iy * self.nx + ix];
                let colour = if v.is_finite() {
                    ViridisRGB.get_color_normalized(v, lo, hi)
                } else {
                    RGBColor(255, 0, 255)
                };
                let x0 = self.x_range.start + ix as f64 * dx;
                let y0 = self.y_range.start + iy as f64 * dy;
                Rectangle::new([(x0, y0), (x0 + dx, y0 + dy)], colour.filled())
            })
        }))?;
        Ok(())
    }
}

fn draw_colour_bar<'a>(
    area: &DrawingArea<BitMapBackend<'a>, Shift>,
    lo: f64,
    hi: f64,
) -> std::result::Result<(), DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>>
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(46)
        .margin_bottom(52)
        .margin_right(8)
        .y_label_area_size(62)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .label_style((FONT, 13))
        .draw()?;
    let steps = 128;
    let dv = (hi - lo) / steps as f64;
    chart.draw_series((0..steps).map(|k| {
        let v = lo + k as f64 * dv;
        Rectangle::new(
            [(0.0, v), (1.0, v + dv)],
            ViridisRGB
                .get_color_normalized(v + 0.5 * dv, lo, hi)
                .filled(),
        )
    }))?;
    Ok(())
}

/// A scatter plot of one or more point sets.
#[derive(Debug, Clone)]
pub struct ScatterPlot {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Named point sets.
    pub sets: Vec<(String, Vec<(f64, f64)>)>,
}

impl ScatterPlot {
    /// An empty scatter plot.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        ScatterPlot {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            sets: Vec::new(),
        }
    }

    /// Adds a named point set.
    pub fn with(mut self, name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        self.sets.push((name.into(), points));
        self
    }

    /// Renders to a PNG of `size` pixels.
    ///
    /// # Errors
    /// [`Error::Plot`] when there is no finite point or the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>, size: (u32, u32)) -> Result<()> {
        let mut plot = LinePlot::new(&self.title, &self.x_label, &self.y_label);
        for (name, points) in &self.sets {
            plot = plot.with(Series::markers(name, points.clone()));
        }
        plot.save(path, size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_stay_short() {
        assert_eq!(tick_label(0.0), "0");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(12.0), "12");
        assert_eq!(tick_label(0.0099999999), "0.01");
        assert_eq!(tick_label(1e-5), "1.0e-5");
        assert_eq!(tick_label(2.5e6), "2.5e6");
    }
}
