//! What a billing line is, for commitments: on-demand EC2 instance hours,
//! Spot hours, Fargate vCPU and memory, Lambda compute, or anything else.
//!
//! A Compute Savings Plan covers EC2 instance hours (not Spot), Fargate
//! vCPU and GB-hours and Lambda duration; never EBS volumes, snapshots,
//! data transfer, NAT gateways, IP addresses, support or tax, although AWS
//! bills several of those under the EC2 service. So the class is decided
//! per line, from what the line says it is (its usage type where the
//! export has one, else its description, unit and resource type), never
//! from the service name alone.

use std::fmt;

/// The class of one billing line.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum UsageClass {
    /// EC2 on-demand or dedicated instance hours (`BoxUsage:*`,
    /// `DedicatedUsage:*`, unused capacity reservations).
    ComputeInstance,
    /// EC2 Spot instance hours: no commitment applies.
    Spot,
    /// Fargate vCPU-hours and GB-hours (not ephemeral storage).
    Fargate,
    /// Lambda duration and provisioned concurrency (not requests, not
    /// Lambda@Edge).
    Lambda,
    /// Everything else: storage, transfer, NAT, IPs, support, tax, fees…
    #[default]
    Other,
}

impl UsageClass {
    pub const ALL: [UsageClass; 5] = [
        UsageClass::ComputeInstance,
        UsageClass::Spot,
        UsageClass::Fargate,
        UsageClass::Lambda,
        UsageClass::Other,
    ];

    /// The classes a Compute Savings Plan covers.
    pub const SAVINGS_PLAN_ELIGIBLE: [UsageClass; 3] = [
        UsageClass::ComputeInstance,
        UsageClass::Fargate,
        UsageClass::Lambda,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UsageClass::ComputeInstance => "compute_instance",
            UsageClass::Spot => "spot",
            UsageClass::Fargate => "fargate",
            UsageClass::Lambda => "lambda",
            UsageClass::Other => "other",
        }
    }

    /// The stored text back (unknown text is `Other`).
    pub fn parse(text: &str) -> UsageClass {
        UsageClass::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .unwrap_or(UsageClass::Other)
    }

    pub fn savings_plan_eligible(self) -> bool {
        UsageClass::SAVINGS_PLAN_ELIGIBLE.contains(&self)
    }
}

impl fmt::Display for UsageClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a line says about itself; every part may be empty.
#[derive(Clone, Copy, Debug, Default)]
pub struct LineFacts<'a> {
    /// AWS usage type (CUR `line_item_usage_type`, FOCUS `x_UsageType`),
    /// such as `USE1-BoxUsage:m5.large` or `EU-EBS:VolumeUsage.gp3`.
    pub usage_type: &'a str,
    pub service: &'a str,
    /// Consumed (or pricing) unit: `Hours`, `Hrs`, `GB-Mo`, …
    pub unit: &'a str,
    /// FOCUS `ChargeDescription` or CUR `line_item_line_item_description`.
    pub description: &'a str,
    /// FOCUS `ResourceType` (`instance`, `volume`, …).
    pub resource_type: &'a str,
    /// FOCUS `PricingCategory` (`Standard`, `Dynamic` for Spot, …).
    pub pricing_category: &'a str,
}

/// The class of a line. The usage type decides when there is one; without
/// it (FOCUS exports without AWS's own columns), the service, the
/// description, the unit and the resource type do.
pub fn classify(line: &LineFacts<'_>) -> UsageClass {
    let usage_type = line.usage_type.trim();
    if !usage_type.is_empty() {
        return from_usage_type(usage_type);
    }
    from_description(line)
}

/// The class of an AWS usage type (`{region prefix}-{kind}:{detail}`).
pub fn from_usage_type(usage_type: &str) -> UsageClass {
    let kind = usage_type.split(':').next().unwrap_or(usage_type);
    // The kind after the region prefix ("USE1-", "EU-", none for us-east-1).
    let has =
        |name: &str| kind == name || kind.ends_with(&format!("-{name}")) || kind.starts_with(name);
    if has("SpotUsage") {
        return UsageClass::Spot;
    }
    if has("BoxUsage") || has("DedicatedUsage") || has("UnusedBox") || has("UnusedDed") {
        return UsageClass::ComputeInstance;
    }
    if let Some(at) = kind.find("Fargate-") {
        let mut rest = &kind[at + "Fargate-".len()..];
        for qualifier in ["ARM-", "Windows-"] {
            rest = rest.strip_prefix(qualifier).unwrap_or(rest);
        }
        if rest.starts_with("vCPU-Hours") || rest.starts_with("GB-Hours") {
            return UsageClass::Fargate;
        }
        return UsageClass::Other;
    }
    if let Some(at) = kind.find("Lambda-") {
        let rest = &kind[at + "Lambda-".len()..];
        if rest.starts_with("GB-Second")
            || rest.starts_with("Provisioned-GB-Second")
            || rest.starts_with("Provisioned-Concurrency")
        {
            return UsageClass::Lambda;
        }
    }
    UsageClass::Other
}

fn is_ec2(service: &str) -> bool {
    let s = service.to_ascii_lowercase();
    s.starts_with("amazon elastic compute cloud") || s == "amazon ec2" || s == "ec2"
}

fn hours_unit(unit: &str) -> bool {
    matches!(
        unit.trim().to_ascii_lowercase().as_str(),
        "hours" | "hour" | "hrs" | "hr" | "h"
    )
}

fn from_description(line: &LineFacts<'_>) -> UsageClass {
    let description = line.description.to_ascii_lowercase();
    let service = line.service.to_ascii_lowercase();
    if is_ec2(line.service) {
        // "$0.34 per On Demand Linux c5.2xlarge Instance Hour"; not the
        // EBS-optimised "… per t3a.small instance-hour (or partial hour)".
        let instance_hour = description.contains("instance hour")
            || (description.is_empty()
                && line.resource_type.eq_ignore_ascii_case("instance")
                && hours_unit(line.unit));
        if !instance_hour {
            return UsageClass::Other;
        }
        let spot =
            line.pricing_category.eq_ignore_ascii_case("dynamic") || description.contains("spot");
        return if spot {
            UsageClass::Spot
        } else {
            UsageClass::ComputeInstance
        };
    }
    if service.contains("lambda") {
        let unit = line.unit.to_ascii_lowercase();
        let duration =
            description.contains("compute") || unit.contains("gb-second") || unit == "seconds";
        let excluded = description.contains("request") || description.contains("edge");
        return if duration && !excluded {
            UsageClass::Lambda
        } else {
            UsageClass::Other
        };
    }
    if (service.contains("container service") || service.contains("fargate"))
        && description.contains("fargate")
        && (description.contains("vcpu") || description.contains("memory"))
        && !description.contains("ephemeral")
        && !description.contains("storage")
    {
        return UsageClass::Fargate;
    }
    UsageClass::Other
}

/// The EC2 instance type of an instance-hour line (`m5.large`), from its
/// usage type (`USE1-BoxUsage:m5.large`; a bare `BoxUsage` is the old
/// default `m1.small`) or its description ("… per On Demand Linux
/// c5.2xlarge Instance Hour"). `None` for other lines. `class` is the
/// line's [`classify`], decided once per line by the caller.
pub fn instance_type(line: &LineFacts<'_>, class: UsageClass) -> Option<String> {
    if !matches!(class, UsageClass::ComputeInstance | UsageClass::Spot) {
        return None;
    }
    let usage_type = line.usage_type.trim();
    if !usage_type.is_empty() {
        return match usage_type.split_once(':') {
            Some((_, t)) if looks_like_type(t) => Some(t.to_string()),
            None if usage_type.ends_with("BoxUsage") => Some("m1.small".to_string()),
            _ => None,
        };
    }
    let words: Vec<&str> = line.description.split_whitespace().collect();
    words
        .windows(3)
        .find(|w| w[1].eq_ignore_ascii_case("instance") && w[2].eq_ignore_ascii_case("hour"))
        .map(|w| w[0])
        .filter(|t| looks_like_type(t))
        .map(str::to_string)
}

/// `family.size`, such as `c6i.4xlarge` or `m7i-flex.xlarge`.
fn looks_like_type(text: &str) -> bool {
    match text.split_once('.') {
        Some((family, size)) => {
            !family.is_empty()
                && !size.is_empty()
                && family
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && size.chars().all(|c| c.is_ascii_alphanumeric())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_types_of_the_ec2_service_are_told_apart() {
        let c = from_usage_type;
        assert_eq!(c("USE1-BoxUsage:m5.large"), UsageClass::ComputeInstance);
        assert_eq!(c("BoxUsage:t3.micro"), UsageClass::ComputeInstance);
        assert_eq!(c("BoxUsage"), UsageClass::ComputeInstance);
        assert_eq!(
            c("EUW2-DedicatedUsage:c5.xlarge"),
            UsageClass::ComputeInstance
        );
        assert_eq!(c("USW2-UnusedBox:m5.large"), UsageClass::ComputeInstance);
        assert_eq!(c("USE1-SpotUsage:c5.xlarge"), UsageClass::Spot);
        assert_eq!(c("EU-EBS:VolumeUsage.gp3"), UsageClass::Other);
        assert_eq!(c("EU-EBS:SnapshotUsage"), UsageClass::Other);
        assert_eq!(c("USE1-DataTransfer-Out-Bytes"), UsageClass::Other);
        assert_eq!(c("USE1-DataTransfer-Regional-Bytes"), UsageClass::Other);
        assert_eq!(c("USE1-NatGateway-Hours"), UsageClass::Other);
        assert_eq!(c("USE1-PublicIPv4:InUseAddress"), UsageClass::Other);
        assert_eq!(c("USE1-EBSOptimized:m4.large"), UsageClass::Other);
    }

    #[test]
    fn fargate_and_lambda_compute_but_not_their_storage_or_requests() {
        let c = from_usage_type;
        assert_eq!(c("USE1-Fargate-vCPU-Hours:perCPU"), UsageClass::Fargate);
        assert_eq!(c("USE1-Fargate-GB-Hours"), UsageClass::Fargate);
        assert_eq!(c("USW2-Fargate-ARM-vCPU-Hours:perCPU"), UsageClass::Fargate);
        assert_eq!(
            c("USE1-Fargate-EphemeralStorage-GB-Hours"),
            UsageClass::Other
        );
        assert_eq!(c("USE1-Lambda-GB-Second"), UsageClass::Lambda);
        assert_eq!(c("USE1-Lambda-GB-Second-ARM"), UsageClass::Lambda);
        assert_eq!(c("USE1-Lambda-Provisioned-Concurrency"), UsageClass::Lambda);
        assert_eq!(c("USE1-Request"), UsageClass::Other);
        assert_eq!(c("USE1-Lambda-Edge-GB-Second"), UsageClass::Other);
    }

    #[test]
    fn focus_lines_without_a_usage_type_are_read_from_their_description() {
        let line = |service, unit, description, resource_type| LineFacts {
            service,
            unit,
            description,
            resource_type,
            pricing_category: "Standard",
            ..LineFacts::default()
        };
        let ec2 = "Amazon Elastic Compute Cloud";
        assert_eq!(
            classify(&line(
                ec2,
                "Hours",
                "$0.34 per On Demand Linux c5.2xlarge Instance Hour",
                "instance"
            )),
            UsageClass::ComputeInstance
        );
        assert_eq!(
            classify(&line(ec2, "Hours", "$0.045 per NAT Gateway Hour", "NULL")),
            UsageClass::Other
        );
        assert_eq!(
            classify(&line(
                ec2,
                "Hours",
                "$0.00 for 175 Mbps per t3a.small instance-hour (or partial hour)",
                ""
            )),
            UsageClass::Other
        );
        assert_eq!(
            classify(&line(
                ec2,
                "GB-Months",
                "$0.08 per GB-month of General Purpose (gp3) provisioned storage",
                "volume"
            )),
            UsageClass::Other
        );
        assert_eq!(
            classify(&LineFacts {
                pricing_category: "Dynamic",
                ..line(
                    ec2,
                    "Hours",
                    "Linux/UNIX Spot Instance-hour in US East c5.large Instance Hour",
                    "instance"
                )
            }),
            UsageClass::Spot
        );
        assert_eq!(
            classify(&line(
                "Amazon Elastic Container Service",
                "Hours",
                "AWS Fargate - vCPU  - US West 2 (Oregon)",
                ""
            )),
            UsageClass::Fargate
        );
        assert_eq!(
            classify(&line(
                "AWS Lambda",
                "Seconds",
                "AWS Lambda - Total Compute - US West (Oregon)-Tier-1",
                ""
            )),
            UsageClass::Lambda
        );
        assert_eq!(
            classify(&line(
                "AWS Lambda",
                "Requests",
                "AWS Lambda - Total Requests - US West (Oregon)",
                ""
            )),
            UsageClass::Other
        );
        // The usage type wins over the description.
        assert_eq!(
            classify(&LineFacts {
                usage_type: "USE1-EBS:VolumeUsage.gp3",
                ..line(ec2, "Hours", "Instance Hour", "instance")
            }),
            UsageClass::Other
        );
    }

    #[test]
    fn stored_text_reads_back() {
        for c in UsageClass::ALL {
            assert_eq!(UsageClass::parse(c.as_str()), c);
        }
        assert_eq!(UsageClass::parse("something"), UsageClass::Other);
    }

    #[test]
    fn instance_types_come_from_the_usage_type_or_the_description() {
        let t = |usage_type, description| {
            let line = LineFacts {
                usage_type,
                description,
                service: "Amazon Elastic Compute Cloud",
                unit: "Hours",
                ..LineFacts::default()
            };
            instance_type(&line, classify(&line))
        };
        assert_eq!(t("USE1-BoxUsage:m5.large", ""), Some("m5.large".into()));
        assert_eq!(t("BoxUsage", ""), Some("m1.small".into()));
        assert_eq!(
            t("EU-DedicatedUsage:c5.xlarge", ""),
            Some("c5.xlarge".into())
        );
        assert_eq!(t("USE1-EBS:VolumeUsage.gp3", ""), None);
        assert_eq!(
            t(
                "",
                "$0.19152 per On Demand Linux m7i-flex.xlarge Instance Hour"
            ),
            Some("m7i-flex.xlarge".into())
        );
        assert_eq!(t("", "$0.045 per NAT Gateway Hour"), None);
    }
}
