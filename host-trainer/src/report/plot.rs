//! Training curves as SVG: validation clean, PGD and verified accuracy (and
//! the int8 export's certified accuracy in QA epochs) and the training eps
//! (right axis) per epoch.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::EpochMetrics;

/// A curve of the plot: its name, colour and value per epoch (if any).
type Series = (&'static str, RGBColor, fn(&EpochMetrics) -> Option<f32>);

/// Draws the curves of `metrics` into an SVG file.
pub fn plot_curves(metrics: &[EpochMetrics], path: &Path, title: &str) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing {}: {e}", path.display());
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let epochs = metrics.len().max(1) as f32;
    let eps_max = metrics.iter().map(|m| m.eps_train).fold(1e-6f32, f32::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .right_y_label_area_size(48)
        .build_cartesian_2d(0f32..epochs, 0f32..1f32)
        .map_err(|e| err(&e))?
        .set_secondary_coord(0f32..epochs, 0f32..eps_max * 1.05);
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("validation accuracy")
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .configure_secondary_axes()
        .y_desc("training eps")
        .draw()
        .map_err(|e| err(&e))?;
    let series: [Series; 5] = [
        ("clean", BLUE, |m| Some(m.val_clean)),
        ("PGD", RED, |m| m.val_pgd),
        ("IBP verified", GREEN, |m| Some(m.val_verified)),
        ("int8 certified (QA epochs)", MAGENTA, |m| {
            m.val_int8_certified
        }),
        ("IBP tightness (Mao et al.)", CYAN, |m| m.val_tightness),
    ];
    for (name, color, value) in series {
        let points: Vec<(f32, f32)> = metrics
            .iter()
            .filter_map(|m| value(m).map(|v| (m.epoch as f32, v)))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
    }
    let eps_points: Vec<(f32, f32)> = metrics
        .iter()
        .map(|m| (m.epoch as f32, m.eps_train))
        .collect();
    chart
        .draw_secondary_series(LineSeries::new(eps_points, BLACK.stroke_width(1)))
        .map_err(|e| err(&e))?
        .label("training eps (right)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
