//! Field conversions of `cast`: decimal numbers, booleans and ISO 8601 dates, each with one
//! exact grammar, so a value is converted or refused, never guessed (csv-parse's `cast: true`
//! also takes `0x10` and ` 12`; we take neither).

/// `[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`: what `Number()` reads as a finite decimal, minus
/// whitespace, hex, `Infinity` and the empty string.
pub(crate) fn number(s: &[u8]) -> Option<f64> {
    let digits = |mut p: usize| {
        while p < s.len() && s[p].is_ascii_digit() {
            p += 1;
        }
        p
    };
    let mut p = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let int = digits(p);
    let mut mantissa = int - p;
    p = int;
    if s.get(p) == Some(&b'.') {
        let frac = digits(p + 1);
        mantissa += frac - p - 1;
        p = frac;
    }
    if mantissa == 0 {
        return None;
    }
    if matches!(s.get(p), Some(b'e' | b'E')) {
        let q = p + 1 + usize::from(matches!(s.get(p + 1), Some(b'+' | b'-')));
        let e = digits(q);
        if e == q {
            return None;
        }
        p = e;
    }
    if p != s.len() {
        return None;
    }
    // Checked: ASCII digits, signs, '.', 'e'. Rust's parser rounds correctly, as V8's.
    std::str::from_utf8(s).ok()?.parse::<f64>().ok()
}

pub(crate) fn boolean(s: &[u8]) -> Option<bool> {
    match s {
        b"true" => Some(true),
        b"false" => Some(false),
        _ => None,
    }
}

/// An ISO 8601 date as ECMAScript's date-time string format reads it (as V8 does): `YYYY`
/// (or `±YYYYYY`), `YYYY-MM`, `YYYY-MM-DD`, each optionally followed by `THH:mm`, `:ss`, a
/// fraction of one or more digits (milliseconds kept) and `Z` or `±HH:mm`.
/// Returns the time in ms since the epoch and whether it is local time (a date-time without an
/// offset), whose ms are those of the same fields read as UTC.
pub(crate) fn date(s: &[u8]) -> Option<(f64, bool)> {
    let num = |a: usize, n: usize| -> Option<i64> {
        let d = s.get(a..a + n)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0i64, |v, &c| v * 10 + i64::from(c - b'0')))
    };
    // `YYYY`, or an expanded year `±YYYYYY` (not -000000).
    let (year, mut p) = match s.first() {
        Some(&sign @ (b'+' | b'-')) => {
            let y = num(1, 6)?;
            if sign == b'-' && y == 0 {
                return None;
            }
            (if sign == b'-' { -y } else { y }, 7)
        }
        _ => (num(0, 4)?, 4),
    };
    let (mut month, mut day) = (1, 1);
    if s.get(p) == Some(&b'-') {
        month = num(p + 1, 2)?;
        p += 3;
        if s.get(p) == Some(&b'-') {
            day = num(p + 1, 2)?;
            p += 3;
        }
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) as f64 * 86_400_000.0;
    if p == s.len() {
        return Some((ms, false));
    }
    if s.get(p) != Some(&b'T') {
        return None;
    }
    let (h, m) = (num(p + 1, 2)?, num(p + 4, 2)?);
    if s.get(p + 3) != Some(&b':') || h > 23 || m > 59 {
        return None;
    }
    p += 6;
    let (mut sec, mut milli) = (0, 0);
    if s.get(p) == Some(&b':') {
        sec = num(p + 1, 2)?;
        p += 3;
        if s.get(p) == Some(&b'.') {
            // One or more digits; V8 keeps the first three (milliseconds).
            let digits = s[p + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            milli = num(p + 1, digits.min(3))? * [100, 10, 1][digits.min(3) - 1];
            p += 1 + digits;
        }
    }
    if sec > 59 {
        return None;
    }
    ms += ((h * 60 + m) * 60 + sec) as f64 * 1000.0 + milli as f64;
    match s.get(p) {
        None => Some((ms, true)),
        Some(b'Z') if p + 1 == s.len() => Some((ms, false)),
        Some(&sign @ (b'+' | b'-')) if p + 6 == s.len() && s[p + 3] == b':' => {
            let (oh, om) = (num(p + 1, 2)?, num(p + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let offset = ((oh * 60 + om) * 60_000) as f64;
            Some((
                if sign == b'+' {
                    ms - offset
                } else {
                    ms + offset
                },
                false,
            ))
        }
        _ => None,
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_one_grammar() {
        for (s, v) in [
            ("1", 1.0),
            ("-0", -0.0),
            ("+2.5", 2.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("007", 7.0),
        ] {
            let got = number(s.as_bytes()).unwrap();
            assert!(
                got == v && got.is_sign_negative() == v.is_sign_negative(),
                "{s}"
            );
        }
        for s in [
            "", "-", ".", "e5", "1e", "0x10", " 1", "1 ", "Infinity", "NaN", "inf", "1_0", "1.2.3",
        ] {
            assert_eq!(number(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn dates_read_as_ecmascript_does() {
        assert_eq!(date(b"1970-01-01"), Some((0.0, false)));
        assert_eq!(
            date(b"2000-02-29T12:34:56.789Z"),
            Some((951_827_696_789.0, false))
        );
        assert_eq!(
            date(b"2000-02-29T14:34:56.789+02:00"),
            Some((951_827_696_789.0, false))
        );
        assert_eq!(date(b"2000-02-29T12:34"), Some((951_827_640_000.0, true)));
        assert_eq!(date(b"2024-03"), Some((1_709_251_200_000.0, false)));
        assert_eq!(
            date(b"2000-02-29T12:34:56.7Z"),
            Some((951_827_696_700.0, false))
        );
        assert_eq!(
            date(b"2000-02-29T12:34:56.78912Z"),
            Some((951_827_696_789.0, false))
        );
        assert_eq!(date(b"+002000-02-29"), date(b"2000-02-29"));
        for s in [
            "2001-02-29",
            "2000-13-01",
            "2000-01-01T24:00",
            "2000-01-01 10:00",
            "20000101",
            "2000-01-01T10:00:00.Z",
            "-000000-01-01",
            "",
        ] {
            assert_eq!(date(s.as_bytes()), None, "{s}");
        }
    }
}
