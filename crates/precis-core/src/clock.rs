//! The wall clock: timestamps for the history and exports, in UTC.

use time::macros::format_description;
use time::OffsetDateTime;

/// The current UTC time as RFC 3339 with millisecond precision (sortable as text).
pub fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

fn rfc3339(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    // Formatting a UTC time with this fixed description cannot fail for years 0–9999.
    at.format(format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        let at = |secs: i64, millis: i64| {
            rfc3339(
                OffsetDateTime::from_unix_timestamp(secs).unwrap() + Duration::milliseconds(millis),
            )
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(1_795_000_000, 5), "2026-11-18T11:06:40.005Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(now_rfc3339().len(), 24);
    }
}
