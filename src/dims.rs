//! The dimensions costs are sliced by: player platforms, cloud regions,
//! services, charge categories.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A player platform the game ships on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Platform {
    #[serde(rename = "PC")]
    Pc,
    PlayStation,
    Xbox,
    Switch,
    #[serde(rename = "iOS")]
    Ios,
    Android,
}

/// Cost that no allocation rule assigned to a platform.
pub const UNALLOCATED: &str = "unallocated";

impl Platform {
    pub const ALL: [Platform; 6] = [
        Platform::Pc,
        Platform::PlayStation,
        Platform::Xbox,
        Platform::Switch,
        Platform::Ios,
        Platform::Android,
    ];

    /// The canonical name stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Pc => "PC",
            Platform::PlayStation => "PlayStation",
            Platform::Xbox => "Xbox",
            Platform::Switch => "Switch",
            Platform::Ios => "iOS",
            Platform::Android => "Android",
        }
    }

    /// Colour used for this platform in every chart (Okabe–Ito palette,
    /// distinguishable with the common colour-vision deficiencies).
    pub fn colour(self) -> (u8, u8, u8) {
        match self {
            Platform::Pc => (230, 159, 0),          // orange
            Platform::PlayStation => (0, 114, 178), // blue
            Platform::Xbox => (0, 158, 115),        // bluish green
            Platform::Switch => (213, 94, 0),       // vermilion
            Platform::Ios => (204, 121, 167),       // reddish purple
            Platform::Android => (86, 180, 233),    // sky blue
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown platform '{0}' (known: PC, PlayStation, Xbox, Switch, iOS, Android, unallocated, shared)")]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;

    /// Accepts the canonical names case-insensitively and common aliases
    /// found in cost-allocation tags (`ps5`, `steam`, `nintendo-switch`, …).
    fn from_str(text: &str) -> Result<Platform, UnknownPlatform> {
        let key: String = text
            .trim()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let platform = match key.as_str() {
            "pc" | "windows" | "steam" | "epic" | "desktop" => Platform::Pc,
            "playstation" | "ps" | "ps4" | "ps5" | "psn" | "sony" => Platform::PlayStation,
            "xbox" | "xboxone" | "xboxseries" | "xboxseriesx" | "xboxseriess" | "xbl" => {
                Platform::Xbox
            }
            "switch" | "nintendoswitch" | "switch2" | "nintendo" | "ns" => Platform::Switch,
            "ios" | "iphone" | "ipad" | "apple" => Platform::Ios,
            "android" | "googleplay" => Platform::Android,
            _ => return Err(UnknownPlatform(text.trim().to_string())),
        };
        Ok(platform)
    }
}

/// Capacity and utilisation an allocation rule marks as serving every
/// platform (`shared`).
pub const SHARED: &str = "shared";

/// A platform value as stored: one of the six platforms, `unallocated` or
/// `shared`.
/// Used to validate user-supplied filters.
pub fn parse_platform_filter(text: &str) -> Result<String, UnknownPlatform> {
    for stored in [UNALLOCATED, SHARED] {
        if text.trim().eq_ignore_ascii_case(stored) {
            return Ok(stored.to_string());
        }
    }
    text.parse::<Platform>().map(|p| p.as_str().to_string())
}

/// How a stored platform value reads on a page: the six platforms as
/// they are, `unallocated` (cost no rule gave a platform) as is, and
/// `shared` (capacity an allocation rule marks as serving every platform,
/// which cost reports split across the platforms) spelt out so it is not
/// mistaken for a leftover bucket.
pub fn platform_label(value: &str) -> String {
    if value == SHARED {
        "shared (serves all platforms)".to_string()
    } else {
        value.to_string()
    }
}

/// Chart colour for a stored platform value (grey for unallocated).
pub fn platform_colour(value: &str) -> (u8, u8, u8) {
    value
        .parse::<Platform>()
        .map(Platform::colour)
        .unwrap_or((153, 153, 153))
}

/// Sort key that lists the six platforms in their usual order, then
/// anything else alphabetically, with `unallocated` last.
pub fn platform_order(value: &str) -> (u8, String) {
    match value.parse::<Platform>() {
        Ok(p) => (
            Platform::ALL.iter().position(|q| *q == p).unwrap_or(0) as u8,
            String::new(),
        ),
        Err(_) if value == UNALLOCATED => (u8::MAX, String::new()),
        Err(_) => (u8::MAX - 1, value.to_string()),
    }
}

/// Human name of a cloud region, where we know it.
pub fn region_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "ca-central-1" => "Canada (Central)",
        "eu-west-1" => "Europe (Ireland)",
        "eu-west-2" => "Europe (London)",
        "eu-west-3" => "Europe (Paris)",
        "eu-central-1" => "Europe (Frankfurt)",
        "eu-north-1" => "Europe (Stockholm)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "sa-east-1" => "South America (São Paulo)",
        "me-south-1" => "Middle East (Bahrain)",
        "me-central-1" => "Middle East (UAE)",
        "af-south-1" => "Africa (Cape Town)",
        "global" => "Global (no region)",
        _ => return None,
    })
}

/// Short label for a long provider service name, for chart legends.
pub fn service_label(service: &str) -> &str {
    match service {
        "Amazon Elastic Compute Cloud - Compute" => "EC2",
        "Amazon GameLift" => "GameLift",
        "Amazon DynamoDB" => "DynamoDB",
        "Amazon Simple Storage Service" => "S3",
        "Amazon CloudFront" => "CloudFront",
        "AWS Data Transfer" => "Data Transfer",
        "Amazon Relational Database Service" => "RDS",
        "Amazon ElastiCache" => "ElastiCache",
        "Amazon Elastic Container Service for Kubernetes" => "EKS",
        "AmazonCloudWatch" => "CloudWatch",
        "Savings Plans for AWS Compute usage" => "Savings Plans",
        other => other,
    }
}

/// A scope of platform, region and service (each `all` or one value) in
/// words: "PC · us-east-1", or "Total (all spend)" when all are `all`.
pub fn scope_label(platform: &str, region: &str, service: &str) -> String {
    let parts: Vec<&str> = [platform, region, service]
        .into_iter()
        .filter(|v| *v != "all")
        .collect();
    if parts.is_empty() {
        "Total (all spend)".to_string()
    } else {
        parts.join(" · ")
    }
}

/// A budget's scope: `scope_label` and its tag (`key=value`) if any.
pub fn budget_scope_label(platform: &str, region: &str, service: &str, tag: &str) -> String {
    if tag.is_empty() {
        return scope_label(platform, region, service);
    }
    let parts: Vec<&str> = [platform, region, service]
        .into_iter()
        .filter(|v| *v != "all")
        .collect();
    if parts.is_empty() {
        format!("Tag {tag}")
    } else {
        format!("{} · tag {tag}", parts.join(" · "))
    }
}

/// Validates a free-text dimension value from a query string (region,
/// service, account): printable, no control characters, bounded length.
pub fn validate_dimension_value(name: &str, value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("parameter '{name}' is empty"));
    }
    if v.chars().count() > 128 {
        return Err(format!("parameter '{name}' is longer than 128 characters"));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(format!("parameter '{name}' contains a control character"));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_platform_names_and_aliases() {
        assert_eq!("PC".parse::<Platform>().unwrap(), Platform::Pc);
        assert_eq!(
            "playstation".parse::<Platform>().unwrap(),
            Platform::PlayStation
        );
        assert_eq!("PS5".parse::<Platform>().unwrap(), Platform::PlayStation);
        assert_eq!(
            "nintendo-switch".parse::<Platform>().unwrap(),
            Platform::Switch
        );
        assert_eq!(" iOS ".parse::<Platform>().unwrap(), Platform::Ios);
        assert_eq!("Xbox Series X".parse::<Platform>().unwrap(), Platform::Xbox);
        assert!("Dreamcast".parse::<Platform>().is_err());
        assert_eq!(parse_platform_filter("Unallocated").unwrap(), UNALLOCATED);
        assert_eq!(parse_platform_filter(" Shared").unwrap(), SHARED);
    }

    #[test]
    fn canonical_names_round_trip() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>().unwrap(), p);
        }
    }

    #[test]
    fn platform_colours_are_distinct() {
        let mut colours: Vec<_> = Platform::ALL.iter().map(|p| p.colour()).collect();
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), 6);
    }

    #[test]
    fn orders_platforms_then_unallocated_last() {
        let mut v = vec!["unallocated", "iOS", "PC", "Other", "Xbox"];
        v.sort_by_key(|s| platform_order(s));
        assert_eq!(v, vec!["PC", "Xbox", "iOS", "Other", "unallocated"]);
    }
}
