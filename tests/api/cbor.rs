//! Just enough CBOR (RFC 8949) for a stub of an AWS service that speaks
//! Smithy's rpc-v2-cbor protocol (CloudWatch): decode a request, encode
//! an answer.

#[derive(Clone, Debug, PartialEq)]
pub enum Cbor {
    Int(i128),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
    Tag(u64, Box<Cbor>),
    Bool(bool),
    Null,
    Float(f64),
}

impl Cbor {
    /// The value of `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Cbor> {
        match self {
            Cbor::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Cbor::Text(t) if t == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Cbor::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Cbor] {
        match self {
            Cbor::Array(items) => items,
            _ => &[],
        }
    }

    /// A number (integer or float, or a timestamp's tag 1) as f64.
    pub fn number(&self) -> Option<f64> {
        match self {
            Cbor::Int(i) => Some(*i as f64),
            Cbor::Float(f) => Some(*f),
            Cbor::Tag(1, inner) => inner.number(),
            _ => None,
        }
    }
}

fn half(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((bits >> 10) & 0x1f) as i32;
    let frac = (bits & 0x3ff) as f64;
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

pub fn decode(bytes: &[u8]) -> Cbor {
    let mut pos = 0;
    item(bytes, &mut pos)
}

fn take(bytes: &[u8], pos: &mut usize, n: usize) -> u64 {
    let mut v = 0u64;
    for _ in 0..n {
        v = (v << 8) | bytes[*pos] as u64;
        *pos += 1;
    }
    v
}

fn item(bytes: &[u8], pos: &mut usize) -> Cbor {
    let ib = bytes[*pos];
    *pos += 1;
    let (major, info) = (ib >> 5, ib & 31);
    let indefinite = info == 31;
    let arg = match info {
        0..=23 => info as u64,
        24 => take(bytes, pos, 1),
        25 => take(bytes, pos, 2),
        26 => take(bytes, pos, 4),
        27 => take(bytes, pos, 8),
        _ => 0,
    };
    let is_break = |bytes: &[u8], pos: &mut usize| {
        if bytes[*pos] == 0xff {
            *pos += 1;
            true
        } else {
            false
        }
    };
    match major {
        0 => Cbor::Int(arg as i128),
        1 => Cbor::Int(-1 - arg as i128),
        2 | 3 => {
            let mut out = Vec::new();
            if indefinite {
                while !is_break(bytes, pos) {
                    match item(bytes, pos) {
                        Cbor::Bytes(b) => out.extend(b),
                        Cbor::Text(t) => out.extend(t.into_bytes()),
                        other => panic!("chunk {other:?}"),
                    }
                }
            } else {
                out.extend_from_slice(&bytes[*pos..*pos + arg as usize]);
                *pos += arg as usize;
            }
            if major == 2 {
                Cbor::Bytes(out)
            } else {
                Cbor::Text(String::from_utf8(out).expect("UTF-8 text"))
            }
        }
        4 => {
            let mut out = Vec::new();
            if indefinite {
                while !is_break(bytes, pos) {
                    out.push(item(bytes, pos));
                }
            } else {
                for _ in 0..arg {
                    out.push(item(bytes, pos));
                }
            }
            Cbor::Array(out)
        }
        5 => {
            let mut out = Vec::new();
            if indefinite {
                while !is_break(bytes, pos) {
                    let k = item(bytes, pos);
                    out.push((k, item(bytes, pos)));
                }
            } else {
                for _ in 0..arg {
                    let k = item(bytes, pos);
                    out.push((k, item(bytes, pos)));
                }
            }
            Cbor::Map(out)
        }
        6 => Cbor::Tag(arg, Box::new(item(bytes, pos))),
        _ => match info {
            20 => Cbor::Bool(false),
            21 => Cbor::Bool(true),
            22 | 23 => Cbor::Null,
            25 => Cbor::Float(half(arg as u16)),
            26 => Cbor::Float(f32::from_bits(arg as u32) as f64),
            27 => Cbor::Float(f64::from_bits(arg)),
            other => panic!("simple value {other}"),
        },
    }
}

fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend([m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend((arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(arg.to_be_bytes());
        }
    }
}

pub fn encode(value: &Cbor, out: &mut Vec<u8>) {
    match value {
        Cbor::Int(i) if *i >= 0 => head(out, 0, *i as u64),
        Cbor::Int(i) => head(out, 1, (-1 - *i) as u64),
        Cbor::Bytes(b) => {
            head(out, 2, b.len() as u64);
            out.extend(b);
        }
        Cbor::Text(t) => {
            head(out, 3, t.len() as u64);
            out.extend(t.as_bytes());
        }
        Cbor::Array(items) => {
            head(out, 4, items.len() as u64);
            for i in items {
                encode(i, out);
            }
        }
        Cbor::Map(entries) => {
            head(out, 5, entries.len() as u64);
            for (k, v) in entries {
                encode(k, out);
                encode(v, out);
            }
        }
        Cbor::Tag(tag, inner) => {
            head(out, 6, *tag);
            encode(inner, out);
        }
        Cbor::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Cbor::Null => out.push(0xf6),
        Cbor::Float(f) => {
            out.push(0xfb);
            out.extend(f.to_bits().to_be_bytes());
        }
    }
}

pub fn text(t: &str) -> Cbor {
    Cbor::Text(t.to_string())
}

#[test]
fn cbor_round_trips() {
    let v = Cbor::Map(vec![
        (text("Id"), text("q0_0")),
        (
            text("Timestamps"),
            Cbor::Array(vec![Cbor::Tag(1, Box::new(Cbor::Float(1.7e9)))]),
        ),
        (text("N"), Cbor::Int(-300)),
        (text("Big"), Cbor::Int(70_000)),
    ]);
    let mut out = Vec::new();
    encode(&v, &mut out);
    assert_eq!(decode(&out), v);
    // An indefinite map with a half float, as encoders may write.
    assert_eq!(
        decode(&[0xbf, 0x61, b'a', 0xf9, 0x3c, 0x00, 0xff]),
        Cbor::Map(vec![(text("a"), Cbor::Float(1.0))])
    );
}
