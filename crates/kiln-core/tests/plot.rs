//! Plots render to PNG, with text, on a machine without system fonts.

use kiln_core::plot::{Heatmap, LinePlot, ScatterPlot, Series};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Reads a PNG's dimensions from its IHDR chunk.
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

#[test]
fn line_heatmap_and_scatter_plots_are_written() {
    let xs: Vec<f64> = (0..100).map(|i| i as f64 / 99.0).collect();
    let line = scratch("line.png");
    LinePlot::new("u(x)", "x", "u")
        .with(Series::line(
            "prediction",
            xs.iter().map(|&x| (x, (6.0 * x).sin())).collect(),
        ))
        .with(Series::markers(
            "truth",
            xs.iter()
                .step_by(10)
                .map(|&x| (x, (6.0 * x).sin()))
                .collect(),
        ))
        .save(&line, (640, 420))
        .unwrap();
    assert_eq!(png_size(&line), (640, 420));

    let loss = scratch("loss.png");
    LinePlot::new("loss", "step", "loss")
        .log_y()
        .with(Series::line(
            "train",
            (1..200).map(|s| (s as f64, 1.0 / s as f64)).collect(),
        ))
        .save(&loss, (640, 420))
        .unwrap();
    assert_eq!(png_size(&loss), (640, 420));

    let heat = scratch("heat.png");
    let (nx, ny) = (40, 30);
    let values = (0..nx * ny)
        .map(|k| ((k % nx) as f64 * 0.2).sin() * ((k / nx) as f64 * 0.2).cos())
        .collect();
    Heatmap {
        title: "u(x, y)".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        values,
        nx,
        ny,
        x_range: 0.0..1.0,
        y_range: 0.0..0.75,
    }
    .save(&heat, (700, 500))
    .unwrap();
    assert_eq!(png_size(&heat), (700, 500));

    let scatter = scratch("scatter.png");
    ScatterPlot::new("samples", "x", "y")
        .with(
            "data",
            (0..50)
                .map(|i| ((i as f64).cos(), (i as f64 * 1.3).sin()))
                .collect(),
        )
        .save(&scatter, (500, 500))
        .unwrap();
    assert_eq!(png_size(&scatter), (500, 500));
}

#[test]
fn bad_plot_input_is_an_error() {
    let err = LinePlot::new("empty", "x", "y")
        .save(scratch("empty.png"), (100, 100))
        .unwrap_err();
    assert!(err.to_string().contains("no finite points"), "{err}");
    let err = Heatmap {
        title: "t".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        values: vec![1.0; 5],
        nx: 2,
        ny: 2,
        x_range: 0.0..1.0,
        y_range: 0.0..1.0,
    }
    .save(scratch("bad.png"), (100, 100))
    .unwrap_err();
    assert!(err.to_string().contains("5 values for a 2x2 grid"), "{err}");
}
