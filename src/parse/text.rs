//! Small text helpers shared by the EH and TG parsers: version numbers and quoting device
//! text in warnings.

/// The longest excerpt of device text a warning quotes: enough to recognise the value,
/// short enough that a garbage answer cannot make a record huge.
const EXCERPT_CHARS: usize = 40;

/// The first `x.y.z` in `text` (the reference's `(\d+)\.(\d+)\.(\d+)` search):
/// `7.7.10-13186-d2f25a6` → `7.7.10`.
pub fn xyz(text: &str) -> Option<&str> {
    version_at_each_start(text)
        .next()
        .map(|(start, end)| &text[start..end])
}

/// `x.y.z-build` from the reference's `(\d+)\.(\d+)\.(\d+)\D+(\d+)` search:
/// `2.1.1-3215-af9ea50ff` → `2.1.1-3215`.
pub fn xyz_build(text: &str) -> Option<String> {
    version_at_each_start(text).find_map(|(start, end)| {
        let rest = &text[end..];
        let build_start = rest.find(|c: char| c.is_ascii_digit())?;
        // `\D+` needs at least one character between the version and the build number.
        if build_start == 0 {
            return None;
        }
        let build = digits(&rest[build_start..]);
        Some(format!("{}-{}", &text[start..end], build))
    })
}

/// `text` quoted for a warning, cut short when long.
pub fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("'{head}…'")
    } else {
        format!("'{head}'")
    }
}

/// Every `digits.digits.digits` match, as byte ranges, tried from the start of each run of
/// digits (a regex search would not find a match starting inside a run that failed from
/// its beginning either).
fn version_at_each_start(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .filter(move |&i| bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()))
        .filter_map(move |start| {
            let mut end = start;
            for part in 0..3 {
                if part > 0 {
                    if bytes.get(end) != Some(&b'.') {
                        return None;
                    }
                    end += 1;
                }
                let len = digits(&text[end..]).len();
                if len == 0 {
                    return None;
                }
                end += len;
            }
            Some((start, end))
        })
}

/// The leading ASCII digits of `text`.
fn digits(text: &str) -> &str {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    &text[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_found_like_the_reference_regexes() {
        assert_eq!(xyz("7.7.10-13186-d2f25a6"), Some("7.7.10"));
        assert_eq!(xyz("v12.3.4x"), Some("12.3.4"));
        assert_eq!(xyz("1.2 then 3.4.5"), Some("3.4.5"));
        assert_eq!(xyz("not-exist / corrupted"), None);
        assert_eq!(xyz("1.2."), None);
        assert_eq!(
            xyz_build("2.1.1-3215-af9ea50ff").as_deref(),
            Some("2.1.1-3215")
        );
        assert_eq!(xyz_build("2.1.1_b77").as_deref(), Some("2.1.1-77"));
        assert_eq!(xyz_build("2.1.1"), None);
        assert_eq!(xyz_build("2.1.13"), None);
        assert_eq!(xyz_build("1.1.1 2.2.2-5").as_deref(), Some("1.1.1-2"));
    }

    #[test]
    fn excerpts_cut_on_character_boundaries() {
        assert_eq!(excerpt("short"), "'short'");
        let long = "é".repeat(100);
        assert_eq!(excerpt(&long), format!("'{}…'", "é".repeat(EXCERPT_CHARS)));
    }
}
