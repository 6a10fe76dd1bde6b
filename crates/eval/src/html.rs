//! Self-contained HTML pages: one file a person can mail or open offline, with every plot inlined
//! as a base64 PNG `data:` URI and one small style sheet, no script and no external resource.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;

use crate::EvalError;
use crate::atomic::write_atomically;

/// `&`, `<`, `>` and `"` escaped for text and attribute values.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `data:image/png;base64,...` of a PNG file (checked by its signature).
pub fn png_data_uri(path: &Path) -> Result<String, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(EvalError::invalid(format!(
            "{} is not a PNG file",
            path.display()
        )));
    }
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

const STYLE: &str = "\
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
td { text-align: right; font-variant-numeric: tabular-nums; }
tbody th { text-align: left; font-weight: normal; }
td.text { text-align: left; }
sup { color: #b00; }
.warning { background: #fff4ce; border: 1px solid #e0b400; padding: 0.6em 1em; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
.figures figure { margin: 0; }
.figures img { max-width: 34em; height: auto; border: 1px solid #eee; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
";

/// A page under construction: headings, paragraphs, tables and inline figures, in order.
#[derive(Debug, Clone)]
pub struct HtmlPage {
    title: String,
    body: String,
}

impl HtmlPage {
    pub fn new(title: &str) -> Self {
        let mut page = Self {
            title: title.to_owned(),
            body: String::new(),
        };
        page.heading(1, title);
        page
    }

    /// A part of a page (no title heading), for [`Self::body`] to be placed inside another one.
    pub fn fragment() -> Self {
        Self {
            title: String::new(),
            body: String::new(),
        }
    }

    /// `<hN>` with escaped text.
    pub fn heading(&mut self, level: u8, text: &str) -> &mut Self {
        let level = level.clamp(1, 6);
        let _ = writeln!(self.body, "<h{level}>{}</h{level}>", escape_html(text));
        self
    }

    /// A paragraph of escaped text.
    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<p>{}</p>", escape_html(text));
        self
    }

    /// A highlighted warning paragraph.
    pub fn warning(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(
            self.body,
            "<p class=\"warning\"><strong>Warning:</strong> {}</p>",
            escape_html(text)
        );
        self
    }

    /// Preformatted text (commands, configuration).
    pub fn preformatted(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<pre>{}</pre>", escape_html(text));
        self
    }

    /// A bulleted list of escaped items.
    pub fn list<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        self.body.push_str("<ul>\n");
        for item in items {
            let _ = writeln!(self.body, "<li>{}</li>", escape_html(item.as_ref()));
        }
        self.body.push_str("</ul>\n");
        self
    }

    /// A table of escaped cells; the first cell of each row is a row header. Cells that do not
    /// look numeric are left-aligned.
    pub fn table<S: AsRef<str>>(&mut self, header: &[S], rows: &[Vec<String>]) -> &mut Self {
        self.body.push_str("<table>\n<thead><tr>");
        for h in header {
            let _ = write!(self.body, "<th>{}</th>", escape_html(h.as_ref()));
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                if i == 0 {
                    let _ = write!(self.body, "<th>{}</th>", escape_html(cell));
                } else {
                    let numeric = cell
                        .trim_start_matches(['+', '-', '−'])
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_digit());
                    let class = if numeric { "" } else { " class=\"text\"" };
                    let _ = write!(self.body, "<td{class}>{}</td>", escape_html(cell));
                }
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody>\n</table>\n");
        self
    }

    /// HTML that is already safe (e.g. a report fragment this crate rendered).
    pub fn raw(&mut self, html: &str) -> &mut Self {
        self.body.push_str(html);
        self.body.push('\n');
        self
    }

    /// PNG files side by side, each inlined as a data URI with its caption.
    pub fn figures<P: AsRef<Path>>(
        &mut self,
        images: &[(P, String)],
    ) -> Result<&mut Self, EvalError> {
        self.body.push_str("<div class=\"figures\">\n");
        for (path, caption) in images {
            let uri = png_data_uri(path.as_ref())?;
            let caption = escape_html(caption);
            let _ = writeln!(
                self.body,
                "<figure><img src=\"{uri}\" alt=\"{caption}\"><figcaption>{caption}</figcaption></figure>"
            );
        }
        self.body.push_str("</div>\n");
        Ok(self)
    }

    /// The body so far (to embed in another page with [`HtmlPage::raw`]).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The whole document.
    pub fn finish(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
             <style>\n{STYLE}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
            escape_html(&self.title),
            self.body
        )
    }

    /// Writes the document atomically.
    pub fn write(&self, path: &Path) -> Result<(), EvalError> {
        let html = self.finish();
        write_atomically(path, |w| {
            w.write_all(html.as_bytes())
                .map_err(|source| EvalError::Io {
                    path: path.to_path_buf(),
                    source,
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_text_and_inlines_pngs() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("x.png");
        // The smallest valid PNG is not needed: only the signature is checked before encoding.
        std::fs::write(&png, b"\x89PNG\r\n\x1a\nrest").unwrap();
        let mut page = HtmlPage::new("A <b> & c");
        page.table(&["genre", "F1"], &[vec!["<jazz>".into(), "0.5".into()]]);
        page.figures(&[(&png, "roc".to_string())]).unwrap();
        let html = page.finish();
        assert!(html.contains("<h1>A &lt;b&gt; &amp; c</h1>"));
        assert!(html.contains("<th>&lt;jazz&gt;</th><td>0.5</td>"));
        assert!(html.contains("src=\"data:image/png;base64,iVBORw0KGgpyZXN0\""));
        let not_png = dir.path().join("y.png");
        std::fs::write(&not_png, b"GIF89a").unwrap();
        assert!(page.figures(&[(&not_png, String::new())]).is_err());
    }
}
