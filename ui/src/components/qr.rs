//! QR codes as inline SVG, drawn on the server (no script, no image request): the TOTP
//! enrolment's `otpauth://` URI.

use maud::{Markup, PreEscaped, html};
use qrcode::QrCode;
use qrcode::render::svg;

/// `text` as a QR code, or `None` when it does not fit in one. Always dark on light,
/// whatever the theme: scanners need that contrast.
pub fn qr_svg(text: &str, label: &str) -> Option<Markup> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline SVG needs no XML declaration. The markup is made of numbers only, so it
    // is safe to embed unescaped.
    let start = image.find("<svg")?;
    Some(html! {
        div.qr role="img" aria-label=(label) { (PreEscaped(&image[start..])) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_inline_svg_without_xml_declaration() {
        let m = qr_svg(
            "otpauth://totp/Automa:a%40b.c?secret=JBSWY3DPEHPK3PXP",
            "QR",
        )
        .expect("fits")
        .into_string();
        assert!(m.starts_with(r#"<div class="qr" role="img" aria-label="QR"><svg"#));
        assert!(!m.contains("<?xml") && m.ends_with("</svg></div>"));
    }

    #[test]
    fn too_long_text_has_no_code() {
        assert!(qr_svg(&"x".repeat(10_000), "QR").is_none());
    }
}
