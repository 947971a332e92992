//! The frame of the module's own pages (logout, refusal, single sign-on
//! failures): one head, one stylesheet, the page's content inside `<main>`.
//! The login page is not framed here: its template is the operator's to
//! replace (`dash_auth_login_page`), so `login.html` stays a whole page to
//! start from.

use crate::login::html_escape;

/// The frame; `{{title}}` and `{{content}}` are filled by [`frame`].
pub const FRAME: &str = include_str!("page.html");

/// A whole page: `title` (escaped) and `content`, HTML of the module's own
/// making whose placeholders, if any, are left for [`fill`].
pub fn frame(title: &str, content: &str) -> String {
    fill(
        FRAME,
        &[("title", &html_escape(title)), ("content", content)],
    )
}

/// Replaces each `{{name}}` of `template` with its value, in one pass: a
/// value (a user name holding `{{signout}}`, say) is never read again as
/// a placeholder. Unknown names are left as written.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some((before, after)) = rest.split_once("{{") {
        out.push_str(before);
        let value = after.split_once("}}").and_then(|(name, tail)| {
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, tail))
        });
        match value {
            Some((value, tail)) => {
                out.push_str(value);
                rest = tail;
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_holds_its_content_and_escapes_its_title() {
        let p = frame("A <b> & c", "<h1>Hi {{user}}</h1>");
        assert!(p.starts_with("<!DOCTYPE html>"));
        assert!(p.contains("<title>A &lt;b&gt; &amp; c</title>"), "{p}");
        assert!(p.contains("<main>\n<h1>Hi {{user}}</h1>\n</main>"), "{p}");
        // No favicon request: before sign-in it would be refused.
        assert!(p.contains(r#"<link rel="icon" href="data:,">"#));
        assert_eq!(
            fill(&p, &[("user", "{{title}}")])
                .matches("{{title}}")
                .count(),
            1
        );
    }
}
