//! Opening an input file: format detection (CSV, gzip'd CSV, Parquet), a
//! streaming gzip decoder, the SHA-256 of the file, and a UTF-8 and line
//! count pass that names the line of the first bad byte. Memory stays
//! bounded whatever the file size, and a compressed file may not expand
//! beyond its [`Limits`] (a gzip or Parquet "bomb" is refused early).

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::errors::ImportError;

/// Below this many expanded bytes the ratio is not checked (a small file
/// of repeated values compresses very well and harms nothing).
pub const RATIO_FLOOR: u64 = 16 * 1024 * 1024;

/// How far a compressed input may expand: past `max_bytes`, or (beyond
/// [`RATIO_FLOOR`]) to more than `max_ratio` times its compressed size, it
/// is refused. `Settings::decompress_limits` gives the configured ones.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_ratio: u64,
}

impl Default for Limits {
    /// 32 × the default upload limit (1 GiB), and 200 : 1.
    fn default() -> Limits {
        Limits {
            max_bytes: 32 * 1024 * 1024 * 1024,
            max_ratio: crate::config::DEFAULT_MAX_COMPRESSION_RATIO,
        }
    }
}

impl Limits {
    /// Why `expanded` bytes from `compressed` is too much, if it is.
    fn exceeded(&self, expanded: u64, compressed: u64) -> Option<String> {
        if expanded > self.max_bytes {
            return Some(format!(
                "it expands to more than {} (max_decompressed_mb)",
                mib(self.max_bytes)
            ));
        }
        if expanded > RATIO_FLOOR && expanded / compressed.max(1) > self.max_ratio {
            return Some(format!(
                "it expands more than {} times ({} from {}; max_compression_ratio)",
                self.max_ratio,
                mib(expanded),
                mib(compressed)
            ));
        }
        None
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// A file to read: where it is, what messages call it (an upload's own
/// name, never its temporary path) and how far it may expand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    pub label: String,
    pub limits: Limits,
}

impl Input {
    /// A file called by its path, with the default limits.
    pub fn new(path: impl Into<PathBuf>) -> Input {
        let path = path.into();
        Input {
            label: label(&path),
            path,
            limits: Limits::default(),
        }
    }

    /// Called `label` in messages and in the list of imports.
    pub fn named(mut self, label: impl Into<String>) -> Input {
        self.label = label.into();
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Input {
        self.limits = limits;
        self
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

/// A file ready for polars: a plain CSV or Parquet path (a decompressed
/// temporary copy for gzip), its hash and size.
pub struct Prepared {
    pub format: Format,
    pub path: PathBuf,
    /// Keeps a decompressed copy alive until the import ends.
    _temp: Option<tempfile::TempPath>,
    /// SHA-256 of the file as given (compressed, if it was).
    pub sha256: String,
    /// Data lines after the header (CSV; quoted newlines count as lines).
    /// Zero when the text check was deferred.
    pub lines: u64,
    pub bytes: u64,
    /// Whether the UTF-8 and line-count pass ran (see [`prepare_deferred`]).
    pub checked: bool,
    /// The hash being computed in the background, if it is.
    pending_hash: Option<std::thread::JoinHandle<std::io::Result<String>>>,
}

impl Prepared {
    /// The SHA-256 of the file, waiting for a background hash to finish.
    pub fn finish_hash(&mut self, file: &str) -> Result<String, ImportError> {
        if let Some(handle) = self.pending_hash.take() {
            self.sha256 = handle
                .join()
                .map_err(|_| ImportError::Io {
                    file: file.to_string(),
                    message: "hashing the file failed".to_string(),
                })?
                .map_err(|e| ImportError::Io {
                    file: file.to_string(),
                    message: e.to_string(),
                })?;
        }
        Ok(self.sha256.clone())
    }
}

/// Like [`prepare`], but for a plain CSV or Parquet file skips the UTF-8
/// and line-count pass and hashes in a background thread, so a large
/// file is read once by polars while it is hashed. Call [`locate_invalid_utf8`]
/// when polars refuses the text.
pub fn prepare_deferred(
    input: &Input,
    progress: &mut dyn FnMut(u64),
) -> Result<Prepared, ImportError> {
    let path = input.path.as_path();
    let (size, kind) = first_bytes(input)?;
    if kind == Kind::Gzip {
        return prepare(input, progress);
    }
    let parquet = kind == Kind::Parquet;
    if parquet {
        check_parquet(input, size)?;
    }
    let owned = path.to_path_buf();
    let handle = std::thread::spawn(move || hash_file(&owned, &mut |_| {}));
    Ok(Prepared {
        format: if parquet {
            Format::Parquet
        } else {
            Format::Csv
        },
        path: path.to_path_buf(),
        _temp: None,
        sha256: String::new(),
        lines: 0,
        bytes: size,
        checked: false,
        pending_hash: Some(handle),
    })
}

/// Refuses a Parquet file whose data would expand beyond the limits, as
/// its footer declares: the larger of the column chunks' uncompressed
/// size (general compression) and 8 bytes for every value (run-length and
/// dictionary encoding, which a constant column a billion rows long
/// shrinks to a few bytes). A footer that cannot be read is left for the
/// reader to explain.
fn check_parquet(input: &Input, size: u64) -> Result<(), ImportError> {
    use polars::prelude::ParquetReader;
    use polars::prelude::SerReader;
    let Ok(file) = File::open(&input.path) else {
        return Ok(());
    };
    let mut reader = ParquetReader::new(file);
    let Ok(meta) = reader.get_metadata() else {
        return Ok(());
    };
    let pages: u64 = meta
        .row_groups
        .iter()
        .flat_map(|rg| rg.parquet_columns())
        .map(|c| c.uncompressed_size().max(0) as u64)
        .fold(0u64, u64::saturating_add);
    let values: u64 = meta
        .row_groups
        .iter()
        .map(|rg| (rg.num_rows() as u64).saturating_mul(rg.parquet_columns().len() as u64))
        .fold(0u64, u64::saturating_add);
    let expanded = pages.max(values.saturating_mul(8));
    match input.limits.exceeded(expanded, size) {
        Some(message) => Err(ImportError::Expands {
            file: input.label.clone(),
            message,
        }),
        None => Ok(()),
    }
}

/// What the first bytes of a file say it is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Gzip,
    Parquet,
    Text,
}

fn io_error(input: &Input, e: std::io::Error) -> ImportError {
    ImportError::Io {
        file: input.label.clone(),
        message: e.to_string(),
    }
}

/// The input's size and kind; an empty file is refused.
fn first_bytes(input: &Input) -> Result<(u64, Kind), ImportError> {
    let io = |e| io_error(input, e);
    let mut f = File::open(&input.path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    if size == 0 {
        return Err(ImportError::Empty {
            file: input.label.clone(),
        });
    }
    let mut magic = [0u8; 4];
    let mut n = 0;
    while n < magic.len() {
        match f.read(&mut magic[n..]).map_err(io)? {
            0 => break,
            read => n += read,
        }
    }
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => (size, Kind::Gzip),
        b"PAR1" => (size, Kind::Parquet),
        _ => (size, Kind::Text),
    })
}

/// The line and byte offset of the first invalid UTF-8 in a text file, if
/// any (to explain a refusal by the CSV reader).
pub fn locate_invalid_utf8(path: &Path) -> Option<(u64, u64)> {
    let mut reader = BufReader::with_capacity(CHUNK, File::open(path).ok()?);
    match check_text("", &mut reader, None, &mut |_| {}, false) {
        Err(ImportError::Encoding { line, offset, .. }) => Some((line, offset)),
        _ => None,
    }
}

const CHUNK: usize = 1 << 20;

/// Name used in messages: the path as the user gave it.
pub fn label(path: &Path) -> String {
    path.display().to_string()
}

/// Opens, checks and (for gzip) decompresses the input. `progress(bytes)`
/// is called as the file is read.
pub fn prepare(input: &Input, progress: &mut dyn FnMut(u64)) -> Result<Prepared, ImportError> {
    let path = input.path.as_path();
    let file = input.label.clone();
    let io = |e: std::io::Error| io_error(input, e);
    let (size, kind) = first_bytes(input)?;
    let gzip = kind == Kind::Gzip;
    if kind == Kind::Parquet {
        check_parquet(input, size)?;
        let sha256 = hash_file(path, progress).map_err(io)?;
        return Ok(Prepared {
            format: Format::Parquet,
            path: path.to_path_buf(),
            _temp: None,
            sha256,
            lines: 0,
            bytes: size,
            checked: true,
            pending_hash: None,
        });
    }

    let compressed_read = Arc::new(AtomicU64::new(0));
    let hashing = HashingReader {
        inner: BufReader::with_capacity(CHUNK, File::open(path).map_err(io)?),
        hasher: Sha256::new(),
        read: compressed_read.clone(),
    };
    if gzip {
        let mut decoder = Capped::new(MultiGzDecoder::new(hashing), compressed_read, input.limits);
        let temp = tempfile::Builder::new()
            .prefix("finops-import-")
            .suffix(".csv")
            .tempfile()
            .map_err(io)?;
        let (mut out, temp_path) = temp.into_parts();
        let lines = check_text(&file, &mut decoder, Some(&mut out), progress, true)?;
        out.flush().map_err(io)?;
        let hashing = decoder.inner.into_inner();
        Ok(Prepared {
            format: Format::Csv,
            path: temp_path.to_path_buf(),
            _temp: Some(temp_path),
            sha256: hex(hashing.hasher.finalize().as_slice()),
            lines,
            bytes: size,
            checked: true,
            pending_hash: None,
        })
    } else {
        let mut reader = hashing;
        let lines = check_text(&file, &mut reader, None, progress, false)?;
        Ok(Prepared {
            format: Format::Csv,
            path: path.to_path_buf(),
            _temp: None,
            sha256: hex(reader.hasher.finalize().as_slice()),
            lines,
            bytes: size,
            checked: true,
            pending_hash: None,
        })
    }
}

/// Why a decompressing read stopped: the limits.
#[derive(Debug)]
struct Expansion(String);

impl std::fmt::Display for Expansion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Expansion {}

/// A decompressing reader that stops at the limits, counting what it gave
/// against what was read from the file (`compressed`).
///
/// The ratio is checked over the whole file so far and over every window
/// of [`RATIO_FLOOR`] expanded bytes, so an ordinary-looking start (random
/// text) cannot buy room for gigabytes of zeros after it.
struct Capped<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    expanded: u64,
    limits: Limits,
    /// Expanded and compressed bytes when the current window began.
    window: (u64, u64),
}

impl<R> Capped<R> {
    fn new(inner: R, compressed: Arc<AtomicU64>, limits: Limits) -> Capped<R> {
        Capped {
            inner,
            compressed,
            expanded: 0,
            limits,
            window: (0, 0),
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.expanded += n as u64;
        let compressed = self.compressed.load(Ordering::Relaxed);
        let mut why = self.limits.exceeded(self.expanded, compressed);
        let (start_out, start_in) = self.window;
        let window_out = self.expanded - start_out;
        if why.is_none() && window_out > RATIO_FLOOR {
            let window_in = compressed.saturating_sub(start_in);
            if window_out / window_in.max(1) > self.limits.max_ratio {
                why = Some(format!(
                    "it expands more than {} times ({} from {} in one stretch; max_compression_ratio)",
                    self.limits.max_ratio,
                    mib(window_out),
                    mib(window_in)
                ));
            }
            self.window = (self.expanded, compressed);
        }
        match why {
            Some(why) => Err(std::io::Error::other(Expansion(why))),
            None => Ok(n),
        }
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    /// Bytes read so far (shared with the decompressing reader).
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_file(path: &Path, progress: &mut dyn FnMut(u64)) -> std::io::Result<String> {
    let mut f = BufReader::with_capacity(CHUNK, File::open(path)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
        progress(total);
    }
    Ok(hex(hasher.finalize().as_slice()))
}

/// Reads all text from `reader`, copying it to `copy` if given; checks it
/// is UTF-8 and counts lines. Returns the number of data lines (lines after
/// the first, not counting a final empty line).
fn check_text(
    file: &str,
    reader: &mut dyn Read,
    mut copy: Option<&mut File>,
    progress: &mut dyn FnMut(u64),
    gzip: bool,
) -> Result<u64, ImportError> {
    let mut buf = vec![0u8; CHUNK];
    let mut carry: Vec<u8> = Vec::new();
    let mut newlines: u64 = 0;
    let mut offset: u64 = 0;
    let mut last_byte: Option<u8> = None;
    let mut total: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.get_ref().is_some_and(|inner| inner.is::<Expansion>()) => {
                return Err(ImportError::Expands {
                    file: file.to_string(),
                    message: e.to_string(),
                })
            }
            Err(e) if gzip => {
                return Err(ImportError::Gzip {
                    file: file.to_string(),
                    message: e.to_string(),
                })
            }
            Err(e) => {
                return Err(ImportError::Io {
                    file: file.to_string(),
                    message: e.to_string(),
                })
            }
        };
        if n == 0 {
            break;
        }
        total += n as u64;
        progress(total);
        if let Some(out) = copy.as_deref_mut() {
            out.write_all(&buf[..n]).map_err(|e| ImportError::Io {
                file: file.to_string(),
                message: e.to_string(),
            })?;
        }
        carry.extend_from_slice(&buf[..n]);
        let valid = match std::str::from_utf8(&carry) {
            Ok(_) => carry.len(),
            Err(e) => match e.error_len() {
                // An incomplete sequence at the end: wait for more bytes.
                None => e.valid_up_to(),
                Some(_) => {
                    let at = e.valid_up_to();
                    let line = newlines + count_newlines(&carry[..at]) + 1;
                    return Err(ImportError::Encoding {
                        file: file.to_string(),
                        line,
                        offset: offset + at as u64,
                    });
                }
            },
        };
        newlines += count_newlines(&carry[..valid]);
        if valid > 0 {
            last_byte = Some(carry[valid - 1]);
        }
        offset += valid as u64;
        carry.drain(..valid);
    }
    if !carry.is_empty() {
        return Err(ImportError::Encoding {
            file: file.to_string(),
            line: newlines + 1,
            offset,
        });
    }
    if total == 0 {
        return Err(ImportError::Empty {
            file: file.to_string(),
        });
    }
    // Lines = newlines, plus one if the last line has no newline.
    let lines = newlines + u64::from(last_byte != Some(b'\n'));
    Ok(lines.saturating_sub(1))
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

/// A small text file (a calendar, a scenario), checked like any import,
/// and its text.
pub fn prepared_text(input: &Input) -> Result<(Prepared, String), ImportError> {
    let prepared = prepare(input, &mut |_| {})?;
    let text = std::fs::read_to_string(&prepared.path).map_err(|e| ImportError::Io {
        file: input.label.clone(),
        message: e.to_string(),
    })?;
    Ok((prepared, text))
}

/// A parser's error for the file `label` as an import error, without the
/// file name the parser already put in front.
pub fn format_error(label: &str, error: impl std::fmt::Display) -> ImportError {
    let text = error.to_string();
    ImportError::Format {
        file: label.to_string(),
        message: text
            .strip_prefix(&format!("{label}: "))
            .map(str::to_string)
            .unwrap_or(text.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn counts_lines_and_hashes() {
        let f = write(b"a,b\n1,2\n3,4\n", ".csv");
        let p = prepare(&Input::new(f.path()), &mut |_| {}).unwrap();
        assert_eq!(p.format, Format::Csv);
        assert_eq!(p.lines, 2);
        assert_eq!(p.sha256.len(), 64);
        let f = write(b"a,b\n1,2", ".csv");
        assert_eq!(
            prepare(&Input::new(f.path()), &mut |_| {}).unwrap().lines,
            1
        );
    }

    #[test]
    fn names_the_line_of_invalid_utf8() {
        let f = write(b"a,b\n1,2\n3,\xff\n", ".csv");
        let e = prepare(&Input::new(f.path()), &mut |_| {}).err().unwrap();
        assert!(
            matches!(
                e,
                ImportError::Encoding {
                    line: 3,
                    offset: 10,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn decompresses_gzip_and_detects_truncation() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"a,b\n1,2\n3,4\n").unwrap();
        let gz = enc.finish().unwrap();
        let f = write(&gz, ".csv.gz");
        let p = prepare(&Input::new(f.path()), &mut |_| {}).unwrap();
        assert_eq!(std::fs::read_to_string(&p.path).unwrap(), "a,b\n1,2\n3,4\n");
        assert_eq!(p.lines, 2);
        let f = write(&gz[..gz.len() - 9], ".csv.gz");
        assert!(matches!(
            prepare(&Input::new(f.path()), &mut |_| {}),
            Err(ImportError::Gzip { .. })
        ));
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_ratio_and_names_the_file() {
        let f = write(&gzip(&vec![b'0'; 40 << 20]), ".csv.gz");
        let input = Input::new(f.path()).named("bomb.csv.gz");
        match prepare(&input, &mut |_| {}) {
            Err(ImportError::Expands { file, message }) => {
                assert_eq!(file, "bomb.csv.gz");
                assert!(message.contains("more than 200 times"), "{message}");
            }
            other => panic!("{:?}", other.map(|p| p.lines)),
        }
        // The same file under a looser ratio passes.
        let loose = input.clone().with_limits(Limits {
            max_ratio: 1_000_000,
            ..Limits::default()
        });
        assert!(prepare(&loose, &mut |_| {}).is_ok());
    }

    #[test]
    fn a_parquet_file_of_one_value_repeated_is_refused() {
        use polars::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.parquet");
        let mut df = df!("BilledCost" => vec![0i64; 4_000_000]).unwrap();
        ParquetWriter::new(File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size < 200_000, "{size} bytes");
        let input = Input::new(&path).named("bomb.parquet");
        assert!(matches!(
            prepare(&input, &mut |_| {}),
            Err(ImportError::Expands { .. })
        ));
        assert!(matches!(
            prepare_deferred(&input, &mut |_| {}),
            Err(ImportError::Expands { .. })
        ));
        // A real file's shape (distinct values) passes.
        let mut df = df!("BilledCost" => (0..400_000i64).collect::<Vec<_>>()).unwrap();
        ParquetWriter::new(File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        assert!(prepare(&input, &mut |_| {}).is_ok());
    }

    #[test]
    fn an_ordinary_start_buys_no_room_for_a_bomb_after_it() {
        // 2 MiB of varied text (ratio ~3), then 60 MiB of zeros: the whole
        // file stays under 200 : 1 for a long while, one stretch does not.
        let mut text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{},{}\n", i.wrapping_mul(2_654_435_761), i).into_bytes())
            .collect();
        text.truncate(2 << 20);
        text.extend(std::iter::repeat_n(b'0', 60 << 20));
        let f = write(&gzip(&text), ".csv.gz");
        match prepare(&Input::new(f.path()), &mut |_| {}) {
            Err(ImportError::Expands { message, .. }) => {
                assert!(message.contains("in one stretch"), "{message}")
            }
            other => panic!("{:?}", other.map(|p| p.lines)),
        }
    }

    #[test]
    fn a_size_cap_holds_whatever_the_ratio() {
        let text: String = (0..200_000).map(|i| format!("{i},{}\n", i * 7)).collect();
        let f = write(&gzip(text.as_bytes()), ".csv.gz");
        let tight = Input::new(f.path()).with_limits(Limits {
            max_bytes: 1 << 20,
            max_ratio: 200,
        });
        assert!(matches!(
            prepare(&tight, &mut |_| {}),
            Err(ImportError::Expands { .. })
        ));
        assert!(prepare(&Input::new(f.path()), &mut |_| {}).is_ok());
        // Small files are not judged by their ratio.
        assert_eq!(Limits::default().exceeded(RATIO_FLOOR, 1), None);
    }

    #[test]
    fn refuses_empty_files() {
        let f = write(b"", ".csv");
        assert!(matches!(
            prepare(&Input::new(f.path()), &mut |_| {}),
            Err(ImportError::Empty { .. })
        ));
    }
}
