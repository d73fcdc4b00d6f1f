//! Times as the errors and certificate reports write them: `YYYY-MM-DD HH:MM:SS UTC`.

/// `secs` since the Unix epoch as a time.
pub(crate) fn system_time(secs: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

/// `t` as [`format_unix_time`] writes it (times before 1970 as 1970).
pub fn format_system_time(t: std::time::SystemTime) -> String {
    format_unix_time(
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC` (beyond the year
/// 9999, where certificates do not go, as `@SECONDS`).
pub fn format_unix_time(secs: u64) -> String {
    let Some(t) = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .filter(|t| t.year() <= 9999)
    else {
        return format!("@{secs}");
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
