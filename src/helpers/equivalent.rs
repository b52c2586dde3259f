//! When two spellings mean the same to AWS, so that a reformatted value never shows as a diff: JSON
//! documents (whitespace and key order) and ISO 8601 durations (`PT1H` and `PT60M`).

/// Seconds of an ISO 8601 duration as IAM Identity Center accepts it (`PT1H`, `PT1H30M`, `PT900S`, `P0DT8H`);
/// years, months and weeks are refused because their length is not fixed.
pub fn parse_iso8601_duration(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "{text:?} is not an ISO 8601 duration; write it like \"PT1H\", \"PT8H\" or \"PT1H30M\""
        )
    };
    let rest = text.strip_prefix('P').ok_or_else(invalid)?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return Err(invalid()),
        None => (rest, None),
    };
    let mut seconds: u64 = 0;
    let mut any = false;
    let mut add = |part: &str, units: &[(char, u64)]| -> Result<(), String> {
        let mut rest = part;
        let mut last_unit = None;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .ok_or_else(invalid)?;
            if digits == 0 {
                return Err(invalid());
            }
            let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
            let unit = rest[digits..].chars().next().ok_or_else(invalid)?;
            let position = units
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(invalid)?;
            // Units must come in order and at most once (PT1M1H is not a duration).
            if last_unit.is_some_and(|last| position <= last) {
                return Err(invalid());
            }
            last_unit = Some(position);
            seconds = number
                .checked_mul(units[position].1)
                .and_then(|s| seconds.checked_add(s))
                .ok_or_else(invalid)?;
            any = true;
            rest = &rest[digits + unit.len_utf8()..];
        }
        Ok(())
    };
    add(date, &[('D', 86_400)])?;
    if let Some(time) = time {
        add(time, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    if !any {
        return Err(invalid());
    }
    Ok(seconds)
}

/// Whether two policy documents mean the same JSON (whitespace and key order ignored).
pub fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Whether two ISO 8601 durations are as long (`PT1H` and `PT60M`), or the same text.
pub fn same_iso8601_duration(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (parse_iso8601_duration(a), parse_iso8601_duration(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_durations_parse_to_seconds() {
        assert_eq!(parse_iso8601_duration("PT1H"), Ok(3600));
        assert_eq!(parse_iso8601_duration("PT1H30M"), Ok(5400));
        assert_eq!(parse_iso8601_duration("PT900S"), Ok(900));
        assert_eq!(parse_iso8601_duration("P0DT8H"), Ok(8 * 3600));
        for bad in [
            "", "1H", "PT", "PTH", "PT1M1H", "PT1H1H", "P1Y", "PT1.5H", "pt1h", "PT-1H",
        ] {
            assert!(parse_iso8601_duration(bad).is_err(), "{bad} accepted");
        }
    }
}
