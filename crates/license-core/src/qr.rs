//! QR codes (SVG) for values an administrator carries off an air-gapped machine.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An SVG QR code of `text`. Colours are presentation attributes, not inline
/// styles, so the app's strict CSP allows it.
pub fn svg(text: &str) -> String {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).expect("short text fits a QR code");
    code.render::<svg::Color>()
        .min_dimensions(160, 160)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_svg_without_style_attributes() {
        let s = super::svg("7K3MQ-9TX4B-2HZR8-W5NQA");
        assert!(s.starts_with("<?xml") || s.starts_with("<svg"));
        assert!(s.contains("<path") && !s.contains("style="));
    }
}
