//! Timestamps as stored: exact integer instants, so a row read back equals the row written.
//!
//! `probes.started_at` is `timestamp(ms, UTC)` ([`TimestampMs`]); `certs.not_before` /
//! `not_after` are `timestamp(s, UTC)` ([`TimestampS`]). Both render as RFC 3339.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TimestampMs(pub i64);

/// Seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TimestampS(pub i64);

fn unix_nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

impl TimestampMs {
    /// The current time, truncated to the millisecond.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// As a `time` date-time (UTC).
    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339 with millisecond precision, e.g. `2026-11-22T10:00:00.123Z`.
    pub fn to_rfc3339(self) -> String {
        let dt = self.to_datetime();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            dt.month() as u8,
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }
}

impl From<SystemTime> for TimestampMs {
    fn from(t: SystemTime) -> Self {
        TimestampMs(unix_nanos(t).div_euclid(1_000_000) as i64)
    }
}

impl From<OffsetDateTime> for TimestampMs {
    fn from(t: OffsetDateTime) -> Self {
        TimestampMs(t.unix_timestamp_nanos().div_euclid(1_000_000) as i64)
    }
}

impl fmt::Display for TimestampMs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl TimestampS {
    /// As a `time` date-time (UTC).
    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339, e.g. `2026-11-22T10:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.0.to_string())
    }
}

impl From<OffsetDateTime> for TimestampS {
    fn from(t: OffsetDateTime) -> Self {
        TimestampS(t.unix_timestamp())
    }
}

impl From<SystemTime> for TimestampS {
    fn from(t: SystemTime) -> Self {
        TimestampS(unix_nanos(t).div_euclid(1_000_000_000) as i64)
    }
}

impl fmt::Display for TimestampS {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// RFC 3339 rendering of an arbitrary date-time, in UTC, whole seconds (manifest fields).
pub fn rfc3339_seconds(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_renderings() {
        let cases: &[(i64, &str)] = &[
            (0, "1970-01-01T00:00:00.000Z"),
            (1_795_341_600_123, "2026-11-22T10:00:00.123Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
        ];
        for (ms, want) in cases {
            assert_eq!(TimestampMs(*ms).to_rfc3339(), *want);
        }
        assert_eq!(
            TimestampS(1_795_341_600).to_rfc3339(),
            "2026-11-22T10:00:00Z"
        );
    }

    #[test]
    fn system_time_truncates_to_the_unit() {
        let t = UNIX_EPOCH + std::time::Duration::from_micros(1_500_999);
        assert_eq!(TimestampMs::from(t), TimestampMs(1_500));
        assert_eq!(TimestampS::from(t), TimestampS(1));
    }
}
