//! `DriverVer = mm/dd/yyyy[,w.x.y.z]`.

use serde::Serialize;

/// The driver date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct InfDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl std::fmt::Display for InfDate {
    /// ISO 8601 (`2024-05-31`), unambiguous in reports.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A four-part driver version; missing trailing parts are zero, as Windows reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DriverVersion(pub [u16; 4]);

impl std::fmt::Display for DriverVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// The parsed `DriverVer` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DriverVer {
    pub date: InfDate,
    /// Optional in the INF syntax.
    pub version: Option<DriverVersion>,
}

/// Parse the comma-separated fields of `DriverVer`; `Err` is the reason.
pub(crate) fn parse_driver_ver(fields: &[String]) -> Result<DriverVer, String> {
    let (date, version) = match fields {
        [date] => (date, None),
        [date, version] => (date, Some(version)),
        _ => return Err("expected mm/dd/yyyy[,w.x.y.z]".into()),
    };
    let date = parse_date(date.trim())?;
    let version = match version.map(|v| v.trim()) {
        None | Some("") => None,
        Some(v) => Some(parse_version(v)?),
    };
    Ok(DriverVer { date, version })
}

fn parse_date(s: &str) -> Result<InfDate, String> {
    let parts: Vec<&str> = s.split('/').collect();
    let [m, d, y] = parts.as_slice() else {
        return Err(format!("date {s:?} is not mm/dd/yyyy"));
    };
    let num = |p: &str, max_len: usize| -> Option<u16> {
        (!p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let (Some(month), Some(day), Some(year)) = (num(m, 2), num(d, 2), num(y, 4)) else {
        return Err(format!("date {s:?} is not mm/dd/yyyy"));
    };
    if y.len() != 4 || year < 1980 {
        return Err(format!(
            "date {s:?}: year must have four digits, 1980 or later"
        ));
    }
    if !(1..=12).contains(&month) {
        return Err(format!("date {s:?}: month {month} is not 1 to 12"));
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        return Err(format!(
            "date {s:?}: day {day} does not exist in month {month}"
        ));
    }
    Ok(InfDate {
        year,
        month: month as u8,
        day: day as u8,
    })
}

fn parse_version(s: &str) -> Result<DriverVersion, String> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return Err(format!("version {s:?} has more than four parts"));
    }
    let mut out = [0u16; 4];
    for (slot, part) in out.iter_mut().zip(&parts) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("version {s:?} is not w.x.y.z"));
        }
        *slot = part
            .parse()
            .map_err(|_| format!("version {s:?}: part {part:?} is larger than 65535"))?;
    }
    Ok(DriverVersion(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dates_and_versions() {
        let v = parse_driver_ver(&f(&["02/29/2024", "30.100.2417.30"])).expect("ok");
        assert_eq!(v.date.to_string(), "2024-02-29");
        assert_eq!(
            v.version.map(|v| v.to_string()).as_deref(),
            Some("30.100.2417.30")
        );
        assert_eq!(
            parse_driver_ver(&f(&["1/2/2020"])).expect("ok").version,
            None
        );
        for bad in [
            &["02/30/2024", "1.0"][..],
            &["13/01/2024"],
            &["2024-01-01"],
            &["01/01/24"],
            &["01/01/2024", "1.2.3.4.5"],
            &["01/01/2024", "1.70000"],
            &["01/01/2024", "1.0", "x"],
        ] {
            assert!(parse_driver_ver(&f(bad)).is_err(), "{bad:?}");
        }
    }
}
