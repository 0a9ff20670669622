//! Benchmark, not a test: `finops catalog import-aws` on a full-size EC2
//! offer file, in AWS's JSON and CSV forms.
//!
//! It writes a regional offer file of about 450 MB (override with
//! `FINOPS_BENCH_PRICE_LIST_MB`) in AWS's layout: instance types of many
//! families and sizes, each in every operating system, tenancy, capacity
//! status and pre-installed software AWS lists, with on-demand terms and
//! twelve Reserved Instance terms each (1 and 3 years × three payments ×
//! standard and convertible). Then it runs the real binary on each form
//! and reads its peak resident memory (VmHWM) and wall time, against a
//! named baseline in the same run: loading the same file whole
//! (serde_json's document model for the JSON form, every record in memory
//! for the CSV form), the way a reader that is not streamed would.
//!
//! Run: `cargo bench --profile dev --bench price_list_import` (uses the
//! test build cache and its `finops` binary).

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const FAMILIES: [&str; 24] = [
    "c5", "c5a", "c6a", "c6g", "c6i", "c6in", "c7a", "c7g", "c7i", "m5", "m5a", "m6a", "m6g",
    "m6i", "m7a", "m7g", "m7i", "r5", "r6a", "r6g", "r6i", "r7g", "r7i", "t3",
];
const SIZES: [(&str, u32); 9] = [
    ("large", 2),
    ("xlarge", 4),
    ("2xlarge", 8),
    ("4xlarge", 16),
    ("8xlarge", 32),
    ("12xlarge", 48),
    ("16xlarge", 64),
    ("24xlarge", 96),
    ("metal", 128),
];
const SYSTEMS: [(&str, &str); 6] = [
    ("Linux", "RunInstances"),
    ("Windows", "RunInstances:0002"),
    ("RHEL", "RunInstances:0010"),
    ("SUSE", "RunInstances:000g"),
    ("Red Hat Enterprise Linux with HA", "RunInstances:1010"),
    ("Ubuntu Pro", "RunInstances:0g00"),
];
const TENANCIES: [(&str, &str); 3] = [
    ("Shared", "BoxUsage"),
    ("Dedicated", "DedicatedUsage"),
    ("Host", "HostBoxUsage"),
];
const CAPACITY: [&str; 3] = [
    "Used",
    "UnusedCapacityReservation",
    "AllocatedCapacityReservation",
];
const SOFTWARE: [&str; 4] = ["NA", "SQL Web", "SQL Std", "SQL Ent"];

/// One product of the generated offer.
struct Product {
    sku: String,
    itype: String,
    vcpu: u32,
    system: (&'static str, &'static str),
    tenancy: (&'static str, &'static str),
    capacity: &'static str,
    software: &'static str,
    on_demand: f64,
}

/// Products of the first `families` families: the listed ones, then the
/// same again with a suffix (`c6ix1`), so every type is distinct.
fn products(families: usize) -> Vec<Product> {
    let mut out = Vec::new();
    for k in 0..families {
        let (generation, f) = (k / FAMILIES.len(), k % FAMILIES.len());
        let family = if generation == 0 {
            FAMILIES[f].to_string()
        } else {
            format!("{}x{generation}", FAMILIES[f])
        };
        for (s, (size, vcpu)) in SIZES.iter().enumerate() {
            let itype = format!("{family}.{size}");
            let base = 0.0425 * f64::from(*vcpu) * (1.0 + f as f64 * 0.01);
            for (o, system) in SYSTEMS.iter().enumerate() {
                for (t, tenancy) in TENANCIES.iter().enumerate() {
                    for (c, capacity) in CAPACITY.iter().enumerate() {
                        for (w, software) in SOFTWARE.iter().enumerate() {
                            out.push(Product {
                                sku: format!("G{generation:03}F{f:02}S{s}O{o}T{t}C{c}W{w}XYZ"),
                                itype: itype.clone(),
                                vcpu: *vcpu,
                                system: *system,
                                tenancy: *tenancy,
                                capacity,
                                software,
                                on_demand: base * (1.0 + o as f64 * 0.4 + t as f64 * 0.1)
                                    + w as f64 * 0.3,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

fn product_json(p: &Product) -> String {
    format!(
        r#"    "{sku}" : {{
      "sku" : "{sku}",
      "productFamily" : "Compute Instance",
      "attributes" : {{
        "servicecode" : "AmazonEC2",
        "location" : "US East (N. Virginia)",
        "locationType" : "AWS Region",
        "instanceType" : "{itype}",
        "currentGeneration" : "Yes",
        "instanceFamily" : "General purpose",
        "vcpu" : "{vcpu}",
        "physicalProcessor" : "Intel Xeon Platinum 8375C (Ice Lake)",
        "clockSpeed" : "3.5 GHz",
        "memory" : "{memory} GiB",
        "storage" : "EBS only",
        "networkPerformance" : "Up to 12500 Megabit",
        "processorArchitecture" : "64-bit",
        "tenancy" : "{tenancy}",
        "operatingSystem" : "{os}",
        "licenseModel" : "No License required",
        "usagetype" : "{usage}:{itype}",
        "operation" : "{operation}",
        "availabilityzone" : "NA",
        "capacitystatus" : "{capacity}",
        "classicnetworkingsupport" : "false",
        "dedicatedEbsThroughput" : "Up to 10000 Mbps",
        "ecu" : "NA",
        "enhancedNetworkingSupported" : "Yes",
        "gpuMemory" : "NA",
        "intelAvxAvailable" : "Yes",
        "intelAvx2Available" : "Yes",
        "intelTurboAvailable" : "Yes",
        "marketoption" : "OnDemand",
        "normalizationSizeFactor" : "{nsf}",
        "preInstalledSw" : "{software}",
        "processorFeatures" : "Intel AVX; Intel AVX2; Intel AVX512; Intel Turbo",
        "regionCode" : "us-east-1",
        "servicename" : "Amazon Elastic Compute Cloud",
        "vpcnetworkingsupport" : "true"
      }}
    }}"#,
        sku = p.sku,
        itype = p.itype,
        vcpu = p.vcpu,
        memory = p.vcpu * 4,
        tenancy = p.tenancy.0,
        usage = p.tenancy.1,
        os = p.system.0,
        operation = p.system.1,
        capacity = p.capacity,
        nsf = p.vcpu * 2,
        software = p.software,
    )
}

fn dimension_json(rate_code: &str, description: &str, unit: &str, price: f64) -> String {
    format!(
        r#"            "{rate_code}" : {{
              "rateCode" : "{rate_code}",
              "description" : "{description}",
              "beginRange" : "0",
              "endRange" : "Inf",
              "unit" : "{unit}",
              "pricePerUnit" : {{
                "USD" : "{price:.10}"
              }},
              "appliesTo" : [ ]
            }}"#
    )
}

/// The twelve Reserved Instance terms of a product: (code, years, payment,
/// class, upfront, hourly).
fn reserved_terms(p: &Product) -> Vec<(String, u32, &'static str, &'static str, f64, f64)> {
    let mut out = Vec::new();
    for (k, (years, class)) in [
        (1, "standard"),
        (3, "standard"),
        (1, "convertible"),
        (3, "convertible"),
    ]
    .into_iter()
    .enumerate()
    {
        let discount =
            if years == 1 { 0.62 } else { 0.42 } + if class == "convertible" { 0.08 } else { 0.0 };
        let hours = f64::from(years) * 8760.0;
        let rate = p.on_demand * discount;
        for (j, payment) in ["No Upfront", "Partial Upfront", "All Upfront"]
            .into_iter()
            .enumerate()
        {
            let (upfront, hourly) = match j {
                0 => (0.0, rate),
                1 => ((rate * 0.5 * hours).round(), rate * 0.5),
                _ => ((rate * hours).round(), 0.0),
            };
            out.push((
                format!("R{k}{j}TERMCODE"),
                years,
                payment,
                class,
                upfront,
                hourly,
            ));
        }
    }
    out
}

fn term_json(p: &Product, reserved: Option<&(String, u32, &str, &str, f64, f64)>) -> String {
    let sku = &p.sku;
    match reserved {
        None => {
            let code = "JRTCKXETXF";
            let dim = dimension_json(
                &format!("{sku}.{code}.6YS6EN2CT7"),
                &format!(
                    "${:.4} per On Demand {} {} Instance Hour",
                    p.on_demand, p.system.0, p.itype
                ),
                "Hrs",
                p.on_demand,
            );
            format!(
                "        \"{sku}.{code}\" : {{\n          \"offerTermCode\" : \"{code}\",\n          \"sku\" : \"{sku}\",\n          \"effectiveDate\" : \"2026-11-01T00:00:00Z\",\n          \"priceDimensions\" : {{\n{dim}\n          }},\n          \"termAttributes\" : {{ }}\n        }}"
            )
        }
        Some((code, years, payment, class, upfront, hourly)) => {
            let mut dims = vec![dimension_json(
                &format!("{sku}.{code}.6YS6EN2CT7"),
                &format!(
                    "Linux/UNIX (Amazon VPC), {} reserved instance applied",
                    p.itype
                ),
                "Hrs",
                *hourly,
            )];
            if *upfront > 0.0 {
                dims.push(dimension_json(
                    &format!("{sku}.{code}.2TG2D8R56U"),
                    "Upfront Fee",
                    "Quantity",
                    *upfront,
                ));
            }
            format!(
                "        \"{sku}.{code}\" : {{\n          \"offerTermCode\" : \"{code}\",\n          \"sku\" : \"{sku}\",\n          \"effectiveDate\" : \"2026-11-01T00:00:00Z\",\n          \"priceDimensions\" : {{\n{}\n          }},\n          \"termAttributes\" : {{\n            \"LeaseContractLength\" : \"{years}yr\",\n            \"OfferingClass\" : \"{class}\",\n            \"PurchaseOption\" : \"{payment}\"\n          }}\n        }}",
                dims.join(",\n")
            )
        }
    }
}

/// Families of products needed for about `target` bytes of JSON.
fn families_for(target: u64) -> usize {
    let mut bytes = 0u64;
    for p in &products(1) {
        bytes += product_json(p).len() as u64 + term_json(p, None).len() as u64;
        for r in reserved_terms(p) {
            bytes += term_json(p, Some(&r)).len() as u64;
        }
    }
    ((target as f64 / bytes as f64).round() as usize).max(1)
}

fn write_json(path: &Path, families: usize) -> u64 {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    let head = "{\n  \"formatVersion\" : \"v1.0\",\n  \"disclaimer\" : \"This pricing list is for informational purposes only.\",\n  \"offerCode\" : \"AmazonEC2\",\n  \"version\" : \"20261101180211\",\n  \"publicationDate\" : \"2026-11-01T18:02:11Z\",\n  \"products\" : {\n";
    w.write_all(head.as_bytes()).expect("write");
    let all = products(families);
    for (i, p) in all.iter().enumerate() {
        if i > 0 {
            w.write_all(b",\n").expect("write");
        }
        w.write_all(product_json(p).as_bytes()).expect("write");
    }
    w.write_all(b"\n  },\n  \"terms\" : {\n    \"OnDemand\" : {\n")
        .expect("write");
    for reserved in [false, true] {
        if reserved {
            w.write_all(b"\n    },\n    \"Reserved\" : {\n")
                .expect("write");
        }
        for (i, p) in all.iter().enumerate() {
            if i > 0 {
                w.write_all(b",\n").expect("write");
            }
            let terms: Vec<String> = if reserved {
                reserved_terms(p)
                    .iter()
                    .map(|r| term_json(p, Some(r)))
                    .collect()
            } else {
                vec![term_json(p, None)]
            };
            write!(
                w,
                "      \"{}\" : {{\n{}\n      }}",
                p.sku,
                terms.join(",\n")
            )
            .expect("write");
        }
    }
    w.write_all(b"\n    }\n  },\n  \"attributesList\" : { }\n}\n")
        .expect("write");
    w.flush().expect("flush");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

const CSV_HEADER: &str = r#""SKU","OfferTermCode","RateCode","TermType","PriceDescription","EffectiveDate","StartingRange","EndingRange","Unit","PricePerUnit","Currency","RelatedTo","LeaseContractLength","PurchaseOption","OfferingClass","Product Family","serviceCode","Location","Location Type","Instance Type","Current Generation","Instance Family","vCPU","Physical Processor","Clock Speed","Memory","Storage","Network Performance","Processor Architecture","Tenancy","EBS Optimized","Operating System","License Model","usageType","operation","AvailabilityZone","CapacityStatus","MarketOption","Normalization Size Factor","Pre Installed S/W","Processor Features","Region Code","serviceName""#;

fn csv_row(p: &Product, cells: [&str; 12]) -> String {
    let [code, rate_code, term_type, description, start, end, unit, price, related, lease, option, class] =
        cells;
    format!(
        "\"{sku}\",\"{code}\",\"{rate_code}\",\"{term_type}\",\"{description}\",\"2026-11-01\",\"{start}\",\"{end}\",\"{unit}\",\"{price}\",\"USD\",\"{related}\",\"{lease}\",\"{option}\",\"{class}\",\"Compute Instance\",\"AmazonEC2\",\"US East (N. Virginia)\",\"AWS Region\",\"{itype}\",\"Yes\",\"General purpose\",\"{vcpu}\",\"Intel Xeon Platinum 8375C (Ice Lake)\",\"3.5 GHz\",\"{memory} GiB\",\"EBS only\",\"Up to 12500 Megabit\",\"64-bit\",\"{tenancy}\",\"Yes\",\"{os}\",\"No License required\",\"{usage}:{itype}\",\"{operation}\",\"NA\",\"{capacity}\",\"OnDemand\",\"{nsf}\",\"{software}\",\"Intel AVX; Intel AVX2; Intel AVX512; Intel Turbo\",\"us-east-1\",\"Amazon Elastic Compute Cloud\"\n",
        sku = p.sku,
        itype = p.itype,
        vcpu = p.vcpu,
        memory = p.vcpu * 4,
        tenancy = p.tenancy.0,
        usage = p.tenancy.1,
        os = p.system.0,
        operation = p.system.1,
        capacity = p.capacity,
        nsf = p.vcpu * 2,
        software = p.software,
    )
}

fn write_csv(path: &Path, families: usize) -> u64 {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    let meta = "\"FormatVersion\",\"v1.0\"\n\"Disclaimer\",\"This pricing list is for informational purposes only.\"\n\"Publication Date\",\"2026-11-01T18:02:11Z\"\n\"Version\",\"20261101180211\"\n\"OfferCode\",\"AmazonEC2\"\n";
    w.write_all(meta.as_bytes()).expect("write");
    writeln!(w, "{CSV_HEADER}").expect("write");
    for p in products(families) {
        let price = format!("{:.10}", p.on_demand);
        let description = format!(
            "${:.4} per On Demand {} {} Instance Hour",
            p.on_demand, p.system.0, p.itype
        );
        let rate_code = format!("{}.JRTCKXETXF.6YS6EN2CT7", p.sku);
        w.write_all(
            csv_row(
                &p,
                [
                    "JRTCKXETXF",
                    &rate_code,
                    "OnDemand",
                    &description,
                    "0",
                    "Inf",
                    "Hrs",
                    &price,
                    "",
                    "",
                    "",
                    "",
                ],
            )
            .as_bytes(),
        )
        .expect("write");
        for (code, years, payment, class, upfront, hourly) in reserved_terms(&p) {
            let lease = format!("{years}yr");
            let hourly = format!("{hourly:.10}");
            let rate_code = format!("{}.{code}.6YS6EN2CT7", p.sku);
            let description = format!(
                "Linux/UNIX (Amazon VPC), {} reserved instance applied",
                p.itype
            );
            w.write_all(
                csv_row(
                    &p,
                    [
                        &code,
                        &rate_code,
                        "Reserved",
                        &description,
                        "0",
                        "Inf",
                        "Hrs",
                        &hourly,
                        "",
                        &lease,
                        payment,
                        class,
                    ],
                )
                .as_bytes(),
            )
            .expect("write");
            if upfront > 0.0 {
                let upfront = format!("{upfront}");
                let rate_code = format!("{}.{code}.2TG2D8R56U", p.sku);
                w.write_all(
                    csv_row(
                        &p,
                        [
                            &code,
                            &rate_code,
                            "Reserved",
                            "Upfront Fee",
                            "",
                            "",
                            "Quantity",
                            &upfront,
                            "",
                            &lease,
                            payment,
                            class,
                        ],
                    )
                    .as_bytes(),
                )
                .expect("write");
            }
        }
    }
    w.flush().expect("flush");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Runs `cmd` and returns (peak resident memory in MiB, wall time),
/// reading the child's VmHWM until it exits.
fn peak_of(mut cmd: Command) -> (f64, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        if let Some(status) = child.try_wait().expect("wait") {
            let elapsed = started.elapsed();
            if !status.success() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("{cmd:?} failed: {err}");
            }
            return (peak_kib as f64 / 1024.0, elapsed);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The baseline, in a child process of this bench: load the file whole.
fn baseline_child(kind: &str, path: &str) {
    let file = std::fs::File::open(path).expect("open");
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let count = match kind {
        "json" => {
            let v: serde_json::Value = serde_json::from_reader(reader).expect("json");
            v["products"].as_object().map_or(0, |m| m.len())
        }
        _ => csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader)
            .records()
            .map(|r| r.expect("row"))
            .collect::<Vec<_>>()
            .len(),
    };
    println!("{count}");
}

fn main() {
    if let Ok(spec) = std::env::var("FINOPS_BENCH_BASELINE_CHILD") {
        let (kind, path) = spec.split_once(':').expect("kind:path");
        baseline_child(kind, path);
        return;
    }
    let target_mb: u64 = std::env::var("FINOPS_BENCH_PRICE_LIST_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(450);
    let dir = tempfile::tempdir().expect("temp dir");
    let families = families_for(target_mb * 1024 * 1024);
    println!(
        "price list import: EC2 offer files of about {target_mb} MB ({} types, {} products)",
        families * SIZES.len(),
        products(families).len()
    );
    println!(
        "{:<6} {:>9} {:>16} {:>16} {:>10} {:>14} {:>14} {:>8}",
        "form",
        "MiB",
        "finops peak MiB",
        "baseline MiB",
        "ratio",
        "finops s",
        "baseline s",
        "ratio"
    );
    let me = std::env::current_exe().expect("bench binary");
    for form in ["json", "csv"] {
        let path = dir.path().join(format!("index.{form}"));
        let bytes = if form == "json" {
            write_json(&path, families)
        } else {
            write_csv(&path, families)
        };
        let db = format!(
            "sqlite://{}",
            dir.path().join(format!("{form}.db")).display()
        );
        let mut migrate = Command::new(env!("CARGO_BIN_EXE_finops"));
        migrate.args(["--database", &db, "migrate"]);
        peak_of(migrate);
        let mut import = Command::new(env!("CARGO_BIN_EXE_finops"));
        import.args([
            "--database",
            &db,
            "catalog",
            "import-aws",
            path.to_str().expect("path"),
        ]);
        let (peak, time) = peak_of(import);
        let mut baseline = Command::new(&me);
        baseline.env(
            "FINOPS_BENCH_BASELINE_CHILD",
            format!("{form}:{}", path.display()),
        );
        let (base_peak, base_time) = peak_of(baseline);
        println!(
            "{:<6} {:>9.0} {:>16.1} {:>16.1} {:>10.3} {:>14.2} {:>14.2} {:>8.2}",
            form,
            bytes as f64 / (1024.0 * 1024.0),
            peak,
            base_peak,
            peak / base_peak,
            time.as_secs_f64(),
            base_time.as_secs_f64(),
            time.as_secs_f64() / base_time.as_secs_f64()
        );
        std::fs::remove_file(&path).ok();
    }
    println!("baseline: the same file loaded whole (serde_json::Value for JSON, every CSV record in memory); ratio = finops ÷ baseline");
}
