//! Times as this crate's components write them: UTC, the same text on the server and in the
//! browser (no time zone database in the bundle).

/// `2026-11-28 12:05 UTC` from Unix time.
pub fn format_utc(unix: i64) -> String {
    let (year, month, day, hour, minute) = civil(unix);
    format!("{year}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

/// Year, month, day, hour and minute (UTC) of Unix time: days to the civil date by Howard
/// Hinnant's algorithm.
pub(crate) fn civil(unix: i64) -> (i64, i64, i64, i64, i64) {
    let days = unix.div_euclid(86_400);
    let minutes = unix.rem_euclid(86_400) / 60;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day, minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_795_867_500), "2026-11-28 12:05 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59 UTC");
    }
}
